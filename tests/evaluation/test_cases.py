"""Evaluation cases: labelled independently, agreed or contested by weighted share; a
contested case is a contradiction with a thread, and resolving the thread settles it."""

from __future__ import annotations

import pytest

from community.services.resolutions import thread_resolve
from consensus.models import Contradiction
from consensus.services import consensus_check
from evaluation.models import CaseStatus, EvaluationCase
from evaluation.selectors import case_items
from evaluation.services.cases import case_label, case_propose
from mola.errors import Conflict, InvalidInput
from teaching.models import Space
from teaching.services.examples import examples_create
from teaching.services.rules import rule_create
from tests.factories import row

pytestmark = pytest.mark.django_db

HIGH_TOSS = row(toss_height_cm=95)


def _contested_by_a_master_and_two_novices(space, master, novices):
    case = case_propose(space=space, user=master, features=HIGH_TOSS, label="toss in front")
    for novice in novices[:2]:
        case, _ = case_label(case=case, user=novice, label="high elbow")
    return case


def test_a_master_and_two_novices_who_disagree_follow_the_weights(space, master, novices):
    case = _contested_by_a_master_and_two_novices(space, master, novices)
    # 4 : 1 + 1 by expertise: the master's label leads with 2/3 of the weight, short of 0.7.
    assert case.status == CaseStatus.CONTESTED
    assert case.shares == {"high elbow": 0.3333, "toss in front": 0.6667}
    Space.objects.filter(pk=space.pk).update(
        settings={**space.settings, "evaluation_agreement": 0.6}
    )
    third = case_propose(space=space, user=master, features=row(), label="no cue")
    for novice in novices[:2]:
        third, _ = case_label(case=third, user=novice, label="high elbow")
    assert (third.status, third.label) == (CaseStatus.AGREED, "no cue")  # not the majority's


def test_others_labels_stay_hidden_until_one_has_answered(space, master, novices):
    case = _contested_by_a_master_and_two_novices(space, master, novices)
    (before,) = case_items(cases=[case], user=novices[2])
    assert "labels" not in before and before["answered"] is False
    case, created = case_label(case=case, user=novices[2], label="toss in front")
    assert created
    (after,) = case_items(cases=[case], user=novices[2])
    assert sorted(x["username"] for x in after["labels"]) == [
        "master",
        "novice1",
        "novice2",
        "novice3",
    ]


def test_a_member_labels_once_and_may_change_their_label(space, master, novices):
    case = case_propose(space=space, user=master, features=HIGH_TOSS, label="toss in front")
    _, created = case_label(case=case, user=novices[0], label="high elbow")
    case, again = case_label(case=case, user=novices[0], label="toss in front")
    assert (created, again) == (True, False)
    assert case.labels.count() == 2
    assert (case.status, case.label) == (CaseStatus.AGREED, "toss in front")


def test_bad_proposals_are_refused_naming_the_field(space, master):
    with pytest.raises(InvalidInput) as bad_label:
        case_propose(space=space, user=master, features=HIGH_TOSS, label="spin")
    assert bad_label.value.problems[0]["field"] == "label"
    with pytest.raises(InvalidInput) as bad_value:
        case_propose(space=space, user=master, features=row(toss_height_cm=900), label="no cue")
    assert bad_value.value.problems[0]["field"] == "features.toss_height_cm"
    assert not EvaluationCase.objects.exists()


def test_a_contested_case_is_a_contradiction_with_a_thread(space, master, novices):
    case = _contested_by_a_master_and_two_novices(space, master, novices)
    found = Contradiction.objects.get(pk=case.contradiction_id)
    assert (found.kind, found.status, found.teachings) == ("evaluation_disagreement", "open", [])
    assert found.witness == HIGH_TOSS
    assert found.evidence == {"toss in front": 1, "high elbow": 2}
    assert found.thread is not None
    # A consensus check (after a teaching write) does not close what it does not look for.
    rule_create(space=space, user=master, condition="toss_height_cm > 90", label="toss in front")
    space.refresh_from_db()
    consensus_check(space_id=space.pk, revision=space.teaching_revision)
    found.refresh_from_db()
    assert found.status == "open"
    # Agreement reached by more labels closes it by itself.
    case, _ = case_label(case=case, user=novices[2], label="toss in front")
    case, _ = case_label(case=case, user=novices[1], label="toss in front")
    found.refresh_from_db()
    assert (case.status, found.status) == (CaseStatus.AGREED, "resolved")


def test_resolving_the_thread_settles_the_case(space, master, novices, moderator):
    case = _contested_by_a_master_and_two_novices(space, master, novices)
    thread = Contradiction.objects.get(pk=case.contradiction_id).thread
    thread_resolve(
        thread=thread,
        user=moderator,
        outcome="dismiss",
        note="The master's cue fits a 95 cm toss.",
        contradictions=[case.contradiction_id],
    )
    case.refresh_from_db()
    thread.refresh_from_db()
    assert (case.status, case.label, case.settled) == (CaseStatus.AGREED, "toss in front", True)
    assert thread.status == "resolved"
    with pytest.raises(Conflict):
        case_label(case=case, user=novices[2], label="high elbow")


def test_an_evaluation_example_becomes_a_proposed_case(
    space, master, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        examples_create(
            space=space,
            user=master,
            items=[{"features": HIGH_TOSS, "label": "toss in front", "evaluation": True}],
        )
    case = EvaluationCase.objects.get()
    assert (case.proposed_by, case.status, case.example_id is not None) == (master, "open", True)
    assert list(case.labels.values_list("label", flat=True)) == ["toss in front"]
