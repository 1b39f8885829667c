"""Each published version's scorecard on the agreed cases, what it changed against the
version before it (and which teaching caused each change), and the regression guard."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from community.models import Notification, Thread
from evaluation.models import EvaluationCase, VersionReport
from evaluation.selectors import version_changes
from evaluation.services.cases import case_label, case_propose
from mola.errors import Conflict, NotAllowed
from teaching.models import ModelVersion, Space
from teaching.services.predict import serving_version
from teaching.services.rules import rule_create
from teaching.services.traffic import recent_inputs_key
from teaching.services.training import train_space
from teaching.services.versions import version_publish_held
from tests.factories import row

pytestmark = pytest.mark.django_db

# What the cases are (every one agreed by the master and the expert).
HIGH_TOSS = [row(toss_height_cm=t) for t in (95, 100, 110)]  # "toss in front"
LOW_ELBOW = [row(toss_height_cm=40, elbow_angle=a) for a in (70, 75)]  # "high elbow"
CALM = [row(toss_height_cm=40, elbow_angle=a) for a in (140, 150)]  # "no cue"


def _agree(space, master, expert, features, label) -> EvaluationCase:
    case = case_propose(space=space, user=master, features=features, label=label)
    case, _ = case_label(case=case, user=expert, label=label)
    assert case.status == "agreed"
    return case


def _set(space, **settings) -> None:
    """Change the space's settings only (its teaching revision moves under other writes)."""
    space.refresh_from_db()
    Space.objects.filter(pk=space.pk).update(settings={**space.settings, **settings})


@pytest.fixture
def world(space, master, expert, teacher):
    """Two rules by the teacher; seven agreed cases; version 1 trained on them."""
    rule_create(space=space, user=teacher, condition="toss_height_cm > 90", label="toss in front")
    rule_create(space=space, user=teacher, condition="elbow_angle >= 130", label="no cue")
    cases = {
        "front": [_agree(space, master, expert, f, "toss in front") for f in HIGH_TOSS],
        "elbow": [_agree(space, master, expert, f, "high elbow") for f in LOW_ELBOW],
        "calm": [_agree(space, master, expert, f, "no cue") for f in CALM],
    }
    first = train_space(space_id=space.pk)
    return cases, first


def test_a_version_carries_its_scorecard_on_the_agreed_cases(space, world):
    _cases, first = world
    card = first.metrics["scorecard"]
    assert card["n_cases"] == 7
    # The rules decide the high tosses and the calm elbows; nothing says "high elbow" yet.
    assert card["per_label"]["high elbow"]["recall"] == 0.0
    assert card["per_label"]["toss in front"]["recall"] == 1.0
    assert card["accuracy"] == pytest.approx(5 / 7, abs=1e-4)
    assert 0 <= card["ece"] <= 1 and 0 < card["macro_f1"] < 1


def test_a_rule_added_is_the_cause_of_exactly_the_cases_it_now_decides(space, world, master):
    cases, first = world
    cache.set(
        recent_inputs_key(space.pk), [*LOW_ELBOW, *CALM, row(toss_height_cm=30, elbow_angle=80)]
    )
    rule, _ = rule_create(
        space=space, user=master, condition="elbow_angle < 90", label="high elbow"
    )
    second = train_space(space_id=space.pk)
    changes = version_changes(version=second)
    elbow_ids = [c.pk for c in cases["elbow"]]
    assert changes["previous"] == first.version
    assert changes["agreed"] == {"now_right": elbow_ids, "now_wrong": []}
    assert changes["causes"] == [
        {
            "teaching": {"type": "rule", "id": rule.pk},
            "author": "master",
            "cases": elbow_ids,
            "answers": 3,
        }
    ]
    assert changes["traffic_changed_share"] == pytest.approx(3 / 5)
    assert second.metrics["scorecard"]["accuracy"] == 1.0
    told = Notification.objects.get(user=master, kind="version")
    told.full_clean()  # "version" is one of the kinds a notification may have
    assert told.message.startswith(
        f"Your rule #{rule.pk} changed 3 of the last 5 answers; 2 agreed"
    )


def test_a_member_whose_rule_stops_deciding_agreed_cases_is_told(space, world, master, teacher):
    cases, _ = world
    # The master's broad rule takes the high tosses over from the teacher's rule, wrongly.
    rule_create(space=space, user=master, condition="toss_height_cm > 85", label="high elbow")
    train_space(space_id=space.pk)
    front_ids = [c.pk for c in cases["front"]]
    report = VersionReport.objects.order_by("-version_id").first()
    assert report.now_wrong == front_ids
    (told,) = Notification.objects.filter(user=teacher, kind="version")
    assert "no longer decides agreed cases" in told.message and "by master" in told.message


def test_the_guard_holds_a_breaking_version_and_publishes_a_harmless_one(
    space, world, master, moderator, teacher
):
    _cases, _first = world
    _set(space, regression_guard={"max_broken": 1})
    _harmless, _ = rule_create(
        space=space, user=master, condition="elbow_angle < 90", label="high elbow"
    )
    second = train_space(space_id=space.pk)
    assert second.status == "ready"
    breaking, _ = rule_create(
        space=space, user=master, condition="toss_height_cm > 85", label="no cue"
    )
    third = train_space(space_id=space.pk)
    assert third.status == "held"
    assert "turns 3 agreed cases from right to wrong" in third.held_because
    assert serving_version(space=space).version == second.version  # the previous keeps serving
    thread = Thread.objects.get(title__startswith=f"Version {third.version} is held")
    assert {"type": "rule", "id": breaking.pk} in thread.teachings
    assert Notification.objects.filter(user=master, thread=thread).exists()
    with pytest.raises(NotAllowed):
        version_publish_held(space=space, user=teacher, version=third.version)
    published = version_publish_held(space=space, user=moderator, version=third.version)
    assert published.status == "ready"
    assert serving_version(space=space).version == third.version
    with pytest.raises(Conflict):
        version_publish_held(space=space, user=moderator, version=third.version)
    assert ModelVersion.objects.filter(space=space, status="held").count() == 0


def test_the_dashboard_charts_the_scorecard_and_tells_the_writer(client, space, world, master):
    _cases, _first = world
    rule, _ = rule_create(
        space=space, user=master, condition="elbow_angle < 90", label="high elbow"
    )
    train_space(space_id=space.pk)
    client.force_login(master)
    html = client.get(f"/spaces/{space.slug}/").content.decode()
    assert 'id="scorecard-chart"' in html
    assert f'href="/spaces/{space.slug}/t/rule/{rule.pk}/"' in html  # version 2's point
    assert "What your teaching changed" in html
    assert f"your rule #{rule.pk}" in html and "now wrong" in html
