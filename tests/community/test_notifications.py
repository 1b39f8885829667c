"""The inbox: disputed teachings are told once; read state; who hears about a post."""

from __future__ import annotations

import pytest

from community.models import Notification
from community.services.notifications import notify_teachings_disputed

pytestmark = pytest.mark.django_db

INBOX = "/api/v1/me/notifications"


@pytest.fixture
def contradiction(space, dispute):
    from consensus.models import Contradiction

    front, elbow = dispute
    return Contradiction.objects.create(
        space=space,
        key="rule_overlap:1:2",
        kind="rule_overlap",
        teachings=[{"type": "rule", "id": front.pk}, {"type": "rule", "id": elbow.pk}],
        region="toss_height_cm > 80",
    )


def test_disputed_authors_are_told_once(space, contradiction, teacher, expert):
    assert notify_teachings_disputed(space, [contradiction]) == 2
    assert notify_teachings_disputed(space, [contradiction]) == 0
    mine = Notification.objects.get(user=teacher)
    assert mine.kind == "disputed" and "A new dispute about your rule" in mine.message
    assert mine.data["top"]["contradiction"] == contradiction.pk
    assert Notification.objects.filter(user=expert).count() == 1


def test_the_inbox_filters_unread_and_marks_read(api, space, contradiction, thread, teacher):
    notify_teachings_disputed(space, [contradiction])
    client = api(teacher)
    body = client.get(INBOX).json()
    assert body["count"] == body["unread"] == 1  # the thread was opened by the teacher
    first = body["results"][0]
    assert first["read"] is False and first["space"] == "serve"
    marked = client.post(f"{INBOX}/read", {"ids": [first["id"]]}, format="json").json()
    assert marked == {"marked": 1, "unread": 0}
    assert client.get(f"{INBOX}?unread=true").json()["count"] == 0
    assert client.get(f"{INBOX}?unread=false").json()["count"] == 1


def test_marking_all_read_touches_only_ones_own(api, space, contradiction, teacher, expert):
    notify_teachings_disputed(space, [contradiction])
    assert api(teacher).post(f"{INBOX}/read", {}, format="json").json()["marked"] == 1
    assert api(expert).get(f"{INBOX}?unread=true").json()["count"] == 1


def test_a_post_tells_the_others_in_the_thread(api, thread, dispute, teacher, expert, novice):
    api(novice).post(f"/api/v1/threads/{thread.pk}/posts", {"body": "Hm."}, format="json")
    kinds = {
        u.username: set(Notification.objects.filter(user=u).values_list("kind", flat=True))
        for u in (teacher, expert, novice)
    }
    assert "post" in kinds["teacher"] and "post" in kinds["expert"]
    assert "post" not in kinds["novice"]
    # The expert was told when the teacher opened it about their rule: one item, both events.
    item = Notification.objects.get(user=expert)
    assert item.data["counts"] == {"thread": 1, "post": 1}


def test_a_post_supports_only_teachings_of_its_thread(api, space, thread, expert):
    from teaching.services.rules import rule_create

    other, _ = rule_create(space=space, user=expert, condition="fatigued", label="no cue")
    response = api(expert).post(
        f"/api/v1/threads/{thread.pk}/posts",
        {"body": "This one", "supports": [{"type": "rule", "id": other.pk}]},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "not_in_thread"
