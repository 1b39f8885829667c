"""A dispute is the unit of decision: a resolution closes exactly the contradictions it
decides, the thread stays open while any other is open, and an appeal reopens exactly what
that resolution closed. Through the services and the API, on real contradiction rows."""

from __future__ import annotations

import pytest

from community.models import Thread
from community.services.appeals import thread_appeal
from community.services.resolutions import thread_resolve
from community.services.threads import thread_create
from consensus.models import Contradiction
from mola.errors import InvalidInput
from teaching.models import Rule, Status

pytestmark = pytest.mark.django_db


def _ref(t):
    return {"type": t.kind, "id": t.pk}


@pytest.fixture
def three(space, teacher, expert, moderator):
    """Three rules on high tosses that pairwise disagree, and an example against the first;
    one thread holding all four disputes."""
    from teaching.services.examples import example_create
    from teaching.services.rules import rule_create
    from tests.factories import row

    front, _ = rule_create(
        space=space, user=teacher, condition="toss_height_cm > 80", label="toss in front"
    )
    elbow, _ = rule_create(
        space=space, user=expert, condition="toss_height_cm > 70", label="high elbow"
    )
    legs, _ = rule_create(
        space=space, user=moderator, condition="toss_height_cm > 90", label="no cue"
    )
    case, _ = example_create(
        space=space, user=expert, features=row(toss_height_cm=100), label="high elbow"
    )
    thread = thread_create(
        space=space,
        user=moderator,
        title="High tosses",
        teachings=[_ref(front), _ref(elbow), _ref(legs), _ref(case)],
    )

    def dispute(kind, a, b, severity):
        return Contradiction.objects.create(
            space=space,
            key=f"{kind}:{a.kind}:{a.pk}+{b.kind}:{b.pk}",
            kind=kind,
            teachings=[_ref(a), _ref(b)],
            witness=row(toss_height_cm=100),
            severity=severity,
            thread=thread,
        )

    disputes = {
        "front-elbow": dispute("rule_overlap", front, elbow, 0.9),
        "front-legs": dispute("rule_overlap", front, legs, 0.8),
        "elbow-legs": dispute("rule_overlap", elbow, legs, 0.7),
        "front-case": dispute("rule_example", front, case, 0.6),
    }
    return thread, (front, elbow, legs, case), disputes


def _statuses(disputes):
    return {name: Contradiction.objects.get(pk=d.pk).status for name, d in disputes.items()}


def test_a_resolution_closes_exactly_the_disputes_between_the_teachings_it_names(three, moderator):
    thread, (front, elbow, _legs, _case), disputes = three
    resolution, _ = thread_resolve(
        thread=thread,
        user=moderator,
        outcome="precedence",
        order=[_ref(elbow), _ref(front)],
        note="Elbow first where both fire.",
    )
    assert _statuses(disputes) == {
        "front-elbow": "resolved",
        "front-legs": "open",
        "elbow-legs": "open",
        "front-case": "open",
    }
    assert resolution.contradictions == [disputes["front-elbow"].pk]
    thread.refresh_from_db()
    assert thread.status == "open"  # three disputes are still open
    assert Rule.objects.get(pk=front.pk).disputed  # still in open disputes


def test_retiring_decides_every_dispute_of_the_retired_teaching_and_no_other(three, moderator):
    thread, (_front, _elbow, legs, _case), disputes = three
    resolution, _ = thread_resolve(
        thread=thread, user=moderator, outcome="prefer", retire=[_ref(legs)], note="No cue: no."
    )
    assert _statuses(disputes) == {
        "front-elbow": "open",
        "front-legs": "resolved",
        "elbow-legs": "resolved",
        "front-case": "open",
    }
    assert sorted(resolution.contradictions) == sorted(
        [disputes["front-legs"].pk, disputes["elbow-legs"].pk]
    )
    legs.refresh_from_db()
    assert legs.status == Status.RETIRED and not legs.disputed


def test_named_contradictions_are_exactly_what_is_decided_and_the_last_closes_the_thread(
    three, moderator
):
    thread, (_front, _elbow, _legs, _case), disputes = three
    thread_resolve(
        thread=thread,
        user=moderator,
        outcome="dismiss",
        contradictions=[disputes["elbow-legs"].pk, disputes["front-case"].pk],
        note="Deliberate.",
    )
    assert _statuses(disputes) == {
        "front-elbow": "open",
        "front-legs": "open",
        "elbow-legs": "dismissed",
        "front-case": "dismissed",
    }
    assert Thread.objects.get(pk=thread.pk).status == "open"
    thread_resolve(
        thread=thread,
        user=moderator,
        outcome="dismiss",
        contradictions=[disputes["front-elbow"].pk, disputes["front-legs"].pk],
        note="Also deliberate.",
    )
    assert Thread.objects.get(pk=thread.pk).status == "resolved"


def test_named_contradictions_must_be_open_disputes_of_the_thread(space, three, moderator):
    thread, _, disputes = three
    elsewhere = Contradiction.objects.create(
        space=space, key="elsewhere", kind="rule_overlap", teachings=[], severity=0.5
    )
    for ids, code in (
        ([elsewhere.pk], "not_in_thread"),
        ([disputes["front-elbow"].pk] * 2, "duplicate"),
    ):
        with pytest.raises(InvalidInput) as caught:
            thread_resolve(
                thread=thread, user=moderator, outcome="dismiss", contradictions=ids, note="x"
            )
        assert caught.value.problems[0]["field"] == "contradictions"
        assert caught.value.problems[0]["code"] == code
    thread_resolve(
        thread=thread,
        user=moderator,
        outcome="dismiss",
        contradictions=[disputes["front-elbow"].pk],
        note="x",
    )
    with pytest.raises(InvalidInput) as caught:
        thread_resolve(
            thread=thread,
            user=moderator,
            outcome="dismiss",
            contradictions=[disputes["front-elbow"].pk],
            note="x",
        )
    assert caught.value.problems[0]["code"] == "not_open"
    assert _statuses(disputes)["front-legs"] == "open"  # the refused calls wrote nothing


def test_an_appeal_reopens_exactly_what_its_resolution_decided(
    space, three, moderator, owner, teacher
):
    from teaching.services.common import teaching_retire

    thread, (front, _elbow, legs, _case), disputes = three
    # An earlier decision on another dispute of the thread: not part of the appeal.
    thread_resolve(
        thread=thread,
        user=moderator,
        outcome="dismiss",
        contradictions=[disputes["front-case"].pk],
        note="The example is an edge case.",
    )
    thread_resolve(
        thread=thread, user=owner, outcome="prefer", retire=[_ref(legs)], note="No cue: no."
    )
    # Rule "front" then goes for another reason: its author retires it.
    teaching_retire(space=space, kind="rule", teaching_id=front.pk, user=teacher)
    thread_appeal(thread=thread, user=moderator, reason="A high toss needs no cue.")
    assert _statuses(disputes) == {
        "front-elbow": "open",  # never decided
        "front-legs": "resolved",  # decided, but front is retired by its author since
        "elbow-legs": "open",  # reopened
        "front-case": "dismissed",  # decided by the earlier resolution
    }
    thread.refresh_from_db()
    assert thread.status == "appealed"
    assert Rule.objects.get(pk=legs.pk).disputed  # in an open dispute again


def test_thread_detail_describes_each_dispute(api, three, teacher):
    thread, (front, elbow, _legs, _case), disputes = three
    body = api(teacher).get(f"/api/v1/threads/{thread.pk}").json()
    first = body["contradictions"][0]
    assert first["id"] == disputes["front-elbow"].pk
    assert first["teachings"] == [
        {
            "type": "rule",
            "id": front.pk,
            "author": "teacher",
            "status": "active",
            "words": "WHEN toss_height_cm > 80 THEN toss in front",
        },
        {
            "type": "rule",
            "id": elbow.pk,
            "author": "expert",
            "status": "active",
            "words": "WHEN toss_height_cm > 70 THEN high elbow",
        },
    ]
    assert first["witness"]["toss_height_cm"] == 100
    assert {"evidence", "severity", "status"} <= set(first)
    example = body["contradictions"][3]["teachings"][1]
    assert "toss_height_cm = 100" in example["words"] and example["author"] == "expert"
    assert body["open_contradictions"] == 4


def test_resolve_checks_who_before_what(api, three, expert, moderator):
    thread, _, _ = three
    url = f"/api/v1/threads/{thread.pk}/resolve"
    bad = {"outcome": "nonsense", "contradictions": ["x"]}
    assert api(expert).post(url, bad, format="json").status_code == 403
    assert api(expert).post(f"{url}/preview", bad, format="json").status_code == 403
    response = api(moderator).post(url, bad, format="json")
    assert response.status_code == 400
    fields = {e["field"] for e in response.json()["errors"]}
    assert "outcome" in fields and any(f.startswith("contradictions") for f in fields), fields


def test_resolve_through_the_api_names_its_contradictions(api, three, moderator):
    thread, _, disputes = three
    response = api(moderator).post(
        f"/api/v1/threads/{thread.pk}/resolve",
        {"outcome": "dismiss", "contradictions": [disputes["front-case"].pk], "note": "Edge."},
        format="json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "open" and body["open_contradictions"] == 3
    assert body["resolution"]["contradictions"] == [disputes["front-case"].pk]


def test_the_preview_says_what_would_close_and_writes_nothing(api, space, three, moderator):
    from teaching.services.training import train_space

    thread, (_front, _elbow, legs, _case), disputes = three
    train_space(space_id=space.pk)
    space.refresh_from_db()
    revision = space.teaching_revision
    response = api(moderator).post(
        f"/api/v1/threads/{thread.pk}/resolve/preview",
        {"outcome": "prefer", "retire": [_ref(legs)]},
        format="json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert [c["id"] for c in body["closes"]] == [
        disputes["front-legs"].pk,
        disputes["elbow-legs"].pk,
    ]
    assert sorted(body["stays_open"]) == sorted(
        [disputes["front-elbow"].pk, disputes["front-case"].pk]
    )
    assert body["thread_resolves"] is False
    assert body["retire"] == [_ref(legs)]
    # The decision settles each closed dispute on the label of the rule that stays.
    assert [a["settles_on"] for a in body["answers"]] == ["toss in front", "high elbow"]
    # Today's model answers each witness; "changes" says where it differs from the decision.
    assert body["model_version"] is not None
    for answer in body["answers"]:
        assert answer["now"] in ("toss in front", "high elbow", "no cue")
        assert answer["changes"] == (answer["now"] != answer["settles_on"])
        # The evidence: the one example (toss 100 cm, the witness's case) lies inside both
        # rules of each dispute, so the model answers it as it answers the witness.
        assert answer["evidence_cases"] == 1
        assert answer["evidence_answered_otherwise"] == int(answer["changes"])
    assert set(_statuses(disputes).values()) == {"open"}
    space.refresh_from_db()
    assert space.teaching_revision == revision


def test_a_check_leaves_an_appealed_dispute_open_while_its_teaching_is_retired(
    space, teacher, expert, moderator, owner
):
    from consensus.services import consensus_check
    from teaching.services.rules import rule_create

    front, _ = rule_create(
        space=space, user=teacher, condition="toss_height_cm > 80", label="toss in front"
    )
    elbow, _ = rule_create(
        space=space, user=expert, condition="toss_height_cm < 90", label="high elbow"
    )
    consensus_check(space_id=space.pk)
    (dispute,) = Contradiction.objects.filter(status="open")
    thread = Thread.objects.get(pk=dispute.thread_id)
    thread_resolve(
        thread=thread, user=moderator, outcome="prefer", retire=[_ref(elbow)], note="Front."
    )
    consensus_check(space_id=space.pk)
    thread_appeal(thread=thread, user=expert, reason="Elbows matter below 90 cm.")
    rule_create(space=space, user=teacher, condition="fatigued", label="no cue")  # any write
    consensus_check(space_id=space.pk)
    dispute.refresh_from_db()
    assert dispute.status == "open" and dispute.appealed
    # The second look restores the rule and decides the dispute again.
    thread_resolve(
        thread=thread,
        user=owner,
        outcome="precedence",
        keep=[_ref(elbow)],
        order=[_ref(elbow), _ref(front)],
        note="Both, elbow first.",
    )
    consensus_check(space_id=space.pk)
    dispute.refresh_from_db()
    assert dispute.status == "resolved" and not dispute.appealed
    assert Rule.objects.get(pk=elbow.pk).status == Status.ACTIVE
