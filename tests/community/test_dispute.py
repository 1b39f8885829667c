"""Two coaches disagree: a thread, posts with positions, a resolution the model obeys,
notifications, an appeal and a second moderator's answer. Every step a member takes goes
through the API; the consensus check and the retrains run in this process (``_thread_for``,
``_fired``), so the test needs no worker (``test_consensus_e2e`` has one)."""

from __future__ import annotations

import pytest

from community.models import Thread
from consensus.services import consensus_check
from teaching.services.predict import predict
from teaching.services.training import train_space
from tests.factories import SPACE_API as S
from tests.factories import row

pytestmark = pytest.mark.django_db


def _fired(space, instance) -> tuple[str, set[int]]:
    """Train the space now and say what the model answers for ``instance``, and which
    rules fired."""
    train_space(space_id=space.pk)
    space.refresh_from_db()
    answer = predict(space=space, instances=[instance])["predictions"][0]
    return answer["label"], {r["id"] for r in answer["explanation"]["rules"]}


def _thread_for(space, refs, django_capture_on_commit_callbacks) -> int:
    """The thread the consensus check opened for the dispute between ``refs``."""
    with django_capture_on_commit_callbacks(execute=True):
        consensus_check(space_id=space.pk)
    wanted = {(r["type"], r["id"]) for r in refs}
    [thread] = [
        thread
        for thread in Thread.objects.filter(space=space)
        if wanted <= {(t["type"], t["id"]) for t in thread.teachings}
    ]
    return thread.pk


def _kinds(api, user) -> list[str]:
    body = api(user).get("/api/v1/me/notifications").json()
    return [n["kind"] for n in body["results"]]


def test_a_dispute_from_thread_to_second_look(
    api, space, owner, moderator, teacher, expert, novice, django_capture_on_commit_callbacks
):
    """Rules, thread, posts, a resolution the model obeys, an appeal, a second answer.

    Long: one dispute's life in order; each step acts on the state the last one left.
    """
    front = api(teacher).post(
        f"{S}/rules",
        {"condition": "toss_height_cm > 80", "label": "toss in front", "rationale": "Toss!"},
        format="json",
    )
    elbow = api(expert).post(
        f"{S}/rules", {"condition": "toss_height_cm > 70", "label": "high elbow"}, format="json"
    )
    assert front.status_code == elbow.status_code == 201
    front_ref = {"type": "rule", "id": front.json()["id"]}
    elbow_ref = {"type": "rule", "id": elbow.json()["id"]}
    high_toss = row(toss_height_cm=100)
    label, fired = _fired(space, high_toss)
    assert front_ref["id"] in fired and elbow_ref["id"] in fired

    thread_id = _thread_for(space, [front_ref, elbow_ref], django_capture_on_commit_callbacks)
    t = f"/api/v1/threads/{thread_id}"
    contradictions = api(teacher).get(t).json()["contradictions"]
    # The coaches were told their rules are disputed, and the thread carries the dispute.
    assert "disputed" in _kinds(api, teacher) and "disputed" in _kinds(api, expert)
    assert len(contradictions) == 1 and contradictions[0]["status"] == "open"

    # Posts with positions; the novice changes their mind, and only the latest post counts.
    assert (
        api(teacher)
        .post(f"{t}/posts", {"body": "Cue the toss.", "supports": [front_ref]}, format="json")
        .status_code
        == 201
    )
    assert (
        api(expert)
        .post(f"{t}/posts", {"body": "It is the elbow.", "supports": [elbow_ref]}, format="json")
        .status_code
        == 201
    )
    api(novice).post(
        f"{t}/posts", {"body": "Toss, surely.", "supports": [front_ref]}, format="json"
    )
    api(novice).post(
        f"{t}/posts", {"body": "No, the elbow.", "supports": [elbow_ref]}, format="json"
    )
    api(novice).post(f"{t}/posts", {"body": "Just a remark."}, format="json")
    body = api(teacher).get(t).json()
    assert len(body["posts"]) >= 5
    positions = {p["teaching"]["id"]: p for p in body["positions"]}
    assert positions[front_ref["id"]]["raw"] == 1
    assert positions[front_ref["id"]]["weighted"] == 2  # intermediate
    assert positions[elbow_ref["id"]]["raw"] == 2
    assert positions[elbow_ref["id"]]["weighted"] == 3 + 1  # expert + novice
    assert body["position_weights"] == {"novice": 1, "intermediate": 2, "expert": 3, "master": 4}
    assert "post" in _kinds(api, teacher)  # the expert posted in the teacher's thread

    # The moderator prefers the elbow rule: the toss rule is retired and no longer fires.
    resolved = api(moderator).post(
        f"{t}/resolve",
        {"outcome": "prefer", "keep": [elbow_ref], "retire": [front_ref], "note": "Elbow first."},
        format="json",
    )
    assert resolved.status_code == 200, resolved.json()
    assert resolved.json()["status"] == "resolved"
    assert resolved.json()["resolution"]["decided_by"] == "moderator"
    assert resolved.json()["resolution"]["changes"]["retired"] == [front_ref]
    assert api(teacher).get(f"{S}/rules/{front_ref['id']}").json()["status"] == "retired"
    label, fired = _fired(space, high_toss)
    assert front_ref["id"] not in fired
    assert label == "high elbow"
    assert "resolution" in _kinds(api, teacher)
    assert "resolution" in _kinds(api, expert)
    closed = [c["status"] for c in resolved.json()["contradictions"]]
    assert closed == ["resolved"]
    history = api(teacher).get(f"{S}/rules/{front_ref['id']}/history").json()["results"]
    assert history[-1]["action"] == "resolve" and history[-1]["author"] == "moderator"

    # Only the author of the retired rule appeals, once; the thread goes to another moderator.
    assert api(expert).post(f"{t}/appeal", {"reason": "Me too"}, format="json").status_code == 403
    appealed = api(teacher).post(f"{t}/appeal", {"reason": "Look at tall servers."}, format="json")
    assert appealed.status_code == 201, appealed.json()
    assert appealed.json()["status"] == "appealed"
    assert appealed.json()["assigned_to"] == "owner"
    assert [c["status"] for c in appealed.json()["contradictions"]] == ["open"]  # reopened
    again = api(teacher).post(f"{t}/appeal", {"reason": "Again"}, format="json")
    assert again.status_code == 409
    assert "appeal" in _kinds(api, owner) and "appeal" in _kinds(api, moderator)

    # The moderator who decided does not answer the appeal; the owner does, restoring the rule.
    refused = api(moderator).post(
        f"{t}/resolve", {"outcome": "dismiss", "note": "Still elbow."}, format="json"
    )
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["code"] == "decided_before"
    second = api(owner).post(
        f"{t}/resolve",
        {"outcome": "prefer", "keep": [front_ref], "retire": [elbow_ref], "note": "Toss first."},
        format="json",
    )
    assert second.status_code == 200, second.json()
    assert second.json()["resolution"]["changes"]["restored"] == [front_ref]
    assert len(second.json()["resolutions"]) == 2
    assert api(teacher).get(f"{S}/rules/{front_ref['id']}").json()["status"] == "active"
    label, fired = _fired(space, high_toss)
    assert front_ref["id"] in fired and elbow_ref["id"] not in fired
    assert label == "toss in front"

    audit = api(moderator).get(f"{S}/audit?action=resolve,appeal").json()["results"]
    assert [(e["action"], e["actor"]) for e in audit] == [
        ("resolve", "owner"),
        ("appeal", "teacher"),
        ("resolve", "moderator"),
    ]
