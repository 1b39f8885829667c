"""Each outcome of a resolution, through the services: what it does to the teachings."""

from __future__ import annotations

import pytest

from community.services.resolutions import thread_resolve
from community.services.threads import thread_create
from mola.errors import Conflict, InvalidInput, NotAllowed
from teaching.models import Action, Concept, Rule, RulePrecedence, Status, TeachingRevision

pytestmark = pytest.mark.django_db


def _refs(*teachings):
    return [{"type": t.kind, "id": t.pk} for t in teachings]


def test_prefer_retires_and_records_one_resolve_revision(space, thread, dispute, moderator):
    front, elbow = dispute
    before = space.teaching_revision
    resolution, revision = thread_resolve(
        thread=thread, user=moderator, outcome="prefer", retire=_refs(front), note="Elbow."
    )
    front.refresh_from_db()
    assert front.status == Status.RETIRED
    assert Rule.objects.get(pk=elbow.pk).status == Status.ACTIVE
    assert revision > before
    revisions = TeachingRevision.objects.filter(revision=revision)
    assert {(r.teaching_id, r.action) for r in revisions} == {
        (front.pk, Action.RESOLVE),
        (elbow.pk, Action.RESOLVE),
    }
    assert resolution.decided_by == moderator and resolution.note == "Elbow."


def test_precedence_keeps_both_and_records_the_order(space, thread, dispute, moderator):
    front, elbow = dispute
    RulePrecedence.objects.create(space=space, winner=front, loser=elbow, created_by=moderator)
    resolution, _ = thread_resolve(
        thread=thread,
        user=moderator,
        outcome="precedence",
        order=_refs(elbow, front),
        note="Elbow wins where both fire.",
    )
    pairs = set(RulePrecedence.objects.values_list("winner_id", "loser_id"))
    assert pairs == {(elbow.pk, front.pk)}  # the reverse pair was replaced
    assert {r.status for r in Rule.objects.all()} == {Status.ACTIVE}
    assert resolution.changes["precedences"] == [_refs(elbow, front)]


def test_precedence_needs_rules_of_the_thread(thread, dispute, moderator):
    front, _ = dispute
    with pytest.raises(InvalidInput):
        thread_resolve(
            thread=thread, user=moderator, outcome="precedence", order=_refs(front), note="x"
        )


def test_scope_records_the_narrowing_edits(thread, dispute, space, teacher, moderator):
    from teaching.services.rules import rule_update

    front, _ = dispute
    with pytest.raises(Conflict):
        thread_resolve(thread=thread, user=moderator, outcome="scope", note="Narrowed.")
    rule_update(space=space, user=teacher, rule_id=front.pk, condition="toss_height_cm > 120")
    resolution, _ = thread_resolve(thread=thread, user=moderator, outcome="scope", note="Narrowed.")
    assert [(e["id"], e["author"], e["action"]) for e in resolution.changes["edits"]] == [
        (front.pk, "teacher", "edit")
    ]


def test_merge_concepts_rewrites_their_users(space, teacher, expert, moderator):
    from teaching.services.concepts import concept_create
    from teaching.services.rules import rule_create

    high, _ = concept_create(
        space=space, user=teacher, name="high_toss", definition="toss_height_cm > 80"
    )
    tall, _ = concept_create(
        space=space, user=expert, name="tall_toss", definition="toss_height_cm > 85"
    )
    user_rule, _ = rule_create(
        space=space,
        user=expert,
        condition='tall_toss and serve_type == "jump"  # tall_toss',
        label="toss in front",
    )
    derived, _ = concept_create(
        space=space, user=expert, name="tall_jump", definition="tall_toss or fatigued"
    )
    thread = thread_create(
        space=space, user=moderator, title="Same idea", teachings=_refs(high, tall)
    )
    resolution, _ = thread_resolve(
        thread=thread,
        user=moderator,
        outcome="merge",
        keep=_refs(high),
        note="One name for one idea.",
    )
    assert Concept.objects.get(pk=tall.pk).status == Status.RETIRED
    assert Rule.objects.get(pk=user_rule.pk).condition == (
        'high_toss and serve_type == "jump"  # tall_toss'
    )
    assert Concept.objects.get(pk=derived.pk).definition == "high_toss or fatigued"
    assert sorted(r["id"] for r in resolution.changes["rewritten"]) == sorted(
        [user_rule.pk, derived.pk]
    )
    assert resolution.changes["merged_into"] == _refs(high)[0]


def test_prefer_refuses_to_retire_a_concept_in_use(space, teacher, expert, moderator):
    from teaching.services.concepts import concept_create
    from teaching.services.rules import rule_create

    high, _ = concept_create(
        space=space, user=teacher, name="high_toss", definition="toss_height_cm > 80"
    )
    rule_create(space=space, user=expert, condition="high_toss", label="toss in front")
    thread = thread_create(space=space, user=moderator, title="?", teachings=_refs(high))
    with pytest.raises(Conflict) as caught:
        thread_resolve(
            thread=thread, user=moderator, outcome="prefer", retire=_refs(high), note="x"
        )
    assert caught.value.problems[0]["code"] == "concept_in_use"
    assert Concept.objects.get(pk=high.pk).status == Status.ACTIVE  # all or nothing


def test_dismiss_changes_no_teaching_and_a_thread_resolves_once(thread, dispute, moderator):
    thread_resolve(thread=thread, user=moderator, outcome="dismiss", note="Deliberate.")
    assert {r.status for r in Rule.objects.all()} == {Status.ACTIVE}
    with pytest.raises(Conflict):
        thread_resolve(thread=thread, user=moderator, outcome="dismiss", note="Again.")


def test_only_teachings_of_the_thread_and_only_moderators(
    space, thread, dispute, expert, moderator
):
    from teaching.services.rules import rule_create

    other, _ = rule_create(space=space, user=expert, condition="fatigued", label="no cue")
    with pytest.raises(InvalidInput):
        thread_resolve(
            thread=thread, user=moderator, outcome="prefer", retire=_refs(other), note="x"
        )
    front, _ = dispute
    with pytest.raises(NotAllowed):
        thread_resolve(thread=thread, user=expert, outcome="prefer", retire=_refs(front), note="x")


def test_resolving_closes_the_contradictions_it_names(space, thread, dispute, moderator):
    from consensus.models import Contradiction

    front, elbow = dispute
    found = Contradiction.objects.create(
        space=space,
        key="test",
        kind="rule_overlap",
        teachings=_refs(front, elbow),
        thread=thread,
    )
    with pytest.raises(InvalidInput) as caught:  # names nothing: decides nothing
        thread_resolve(thread=thread, user=moderator, outcome="dismiss", note="Deliberate.")
    assert caught.value.problems[0]["field"] == "contradictions"
    assert caught.value.problems[0]["code"] == "nothing_decided"
    resolution, _ = thread_resolve(
        thread=thread,
        user=moderator,
        outcome="dismiss",
        contradictions=[found.pk],
        note="Deliberate.",
    )
    found.refresh_from_db()
    thread.refresh_from_db()
    assert found.status == "dismissed"
    assert found.close_note == "Deliberate."
    assert resolution.contradictions == [found.pk]
    assert thread.status == "resolved"  # none of its contradictions is open
