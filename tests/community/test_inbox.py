"""The grouped inbox: one item per teaching and thread, counted; budgets; reviews told to
the author; the daily digest; the settings API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from community.models import Notification
from community.services import notifications
from community.services.notifications import (
    MAX_TEACHING_ITEMS,
    next_digest,
    notify_teachings_disputed,
)
from tests.factories import SPACE_API as S

pytestmark = pytest.mark.django_db

INBOX = "/api/v1/me/notifications"


def _rule(space, user, threshold: int, label: str = "high elbow"):
    from teaching.services.rules import rule_create

    rule, _ = rule_create(
        space=space, user=user, condition=f"toss_height_cm > {threshold}", label=label
    )
    return rule


def test_twelve_disputes_about_one_rule_are_one_item(space, twelve, teacher):
    mine, theirs, rows = twelve
    assert notify_teachings_disputed(space, rows) == 24  # 12 for each author
    item = Notification.objects.get(user=teacher)
    assert item.count == 12 and item.group == f"disputes:rule:{mine.pk}"
    assert item.message.startswith(f"12 new disputes about your rule #{mine.pk}")
    assert f"rule #{theirs[-1].pk}, severity 0.12" in item.message  # the most severe named
    assert item.data["target"] == {"contradictions": {"teaching": f"rule:{mine.pk}"}}
    assert notify_teachings_disputed(space, rows) == 0  # told once
    assert Notification.objects.get(user=teacher).count == 12


def test_past_the_budget_disputes_share_one_item(space, twelve, expert):
    _, theirs, rows = twelve
    notify_teachings_disputed(space, rows)
    items = list(Notification.objects.filter(user=expert))
    own = [i for i in items if i.group.startswith("disputes:rule:")]
    more = [i for i in items if i.group.startswith("disputes:more")]
    assert len(own) == MAX_TEACHING_ITEMS and len(more) == 1
    # The most severe eight keep their own item; the four least severe share one.
    assert {i.group for i in own} == {f"disputes:rule:{r.pk}" for r in theirs[4:]}
    assert more[0].count == 4
    assert more[0].message.startswith("4 new disputes about 4 more of your teachings")
    assert more[0].data["target"] == {"contradictions": {"member": "expert"}}


def test_a_read_item_comes_back_unread_with_what_is_new(api, space, twelve, teacher, expert):
    rows = twelve[2]
    notify_teachings_disputed(space, rows[:5])
    client = api(teacher)
    assert client.get(INBOX).json()["unread"] == 1
    client.post(f"{INBOX}/read", {}, format="json")
    notify_teachings_disputed(space, rows[5:7])
    body = client.get(INBOX).json()
    assert body["count"] == 1 and body["unread"] == 1
    assert body["results"][0]["count"] == 2
    assert body["results"][0]["message"].startswith("2 new disputes")


def test_posts_in_a_thread_fold_into_one_item(api, thread, teacher, expert, novice):
    for body in ("One.", "Two.", "Three."):
        response = api(novice).post(
            f"/api/v1/threads/{thread.pk}/posts", {"body": body}, format="json"
        )
        assert response.status_code == 201
    items = list(Notification.objects.filter(user=expert))
    assert len(items) == 1  # the opening and three posts
    item = items[0]
    assert item.group == f"thread:{thread.pk}" and item.count == 4 and item.thread_id == thread.pk
    assert item.message.startswith(f"4 updates in “{thread.title}”: 1 opening, 3 posts.")
    listed = api(expert).get(INBOX).json()["results"][0]
    assert listed["target"] == {"thread": thread.pk} and listed["count"] == 4


def test_endorse_and_reject_reach_the_author(api, space, novice, expert):
    from teaching.models import Status

    first = _rule(space, novice, 90, "no cue")
    second = _rule(space, novice, 95, "no cue")
    assert first.status == Status.PROPOSED
    url = f"{S}/rules/{first.pk}/endorse"
    assert api(expert).post(url, {"note": "Good cue."}, format="json").status_code == 200
    body = api(novice).get(INBOX).json()
    assert body["unread"] == 1
    item = body["results"][0]
    assert item["kind"] == "review" and item["target"] == {
        "teaching": {"type": "rule", "id": first.pk}
    }
    assert item["message"] == f"expert endorsed your rule #{first.pk}: “Good cue.”"
    api(expert).post(f"{S}/rules/{second.pk}/reject", {}, format="json")
    body = api(novice).get(INBOX).json()
    assert body["count"] == 1 and body["results"][0]["count"] == 2
    assert "(1 endorsed, 1 rejected)" in body["results"][0]["message"]
    assert Notification.objects.filter(user=expert, kind="review").count() == 0


def test_a_daily_digest_holds_new_items_until_its_hour(api, space, twelve, teacher):
    rows = twelve[2]
    client = api(teacher)
    response = client.patch(
        f"{INBOX}/settings", {"delivery": "daily", "digest_hour": 7}, format="json"
    )
    assert response.json() == {"delivery": "daily", "digest_hour": 7}
    notify_teachings_disputed(space, rows)
    assert client.get(INBOX).json()["unread"] == 0  # waits for 7 o'clock
    held = Notification.objects.get(user=teacher)
    assert held.visible_at > timezone.now() and held.visible_at.hour == 7
    Notification.objects.filter(pk=held.pk).update(visible_at=timezone.now() - timedelta(seconds=1))
    assert client.get(INBOX).json()["unread"] == 1


def test_next_digest_is_today_or_tomorrow():
    morning = datetime(2026, 5, 1, 6, 30, tzinfo=UTC)
    assert next_digest(morning, 7) == datetime(2026, 5, 1, 7, tzinfo=UTC)
    assert next_digest(morning, 6) == datetime(2026, 5, 2, 6, tzinfo=UTC)


@pytest.mark.parametrize(
    "body, field",
    [({"delivery": "weekly"}, "delivery"), ({"digest_hour": 24}, "digest_hour")],
)
def test_bad_settings_are_a_400_that_names_the_field(api, teacher, body, field):
    response = api(teacher).patch(f"{INBOX}/settings", body, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == field
    assert notifications.notification_settings_get(user=teacher).pk is None  # nothing saved


def test_the_inbox_pages(api, space, twelve, expert):
    notify_teachings_disputed(space, twelve[2])
    body = api(expert).get(f"{INBOX}?page_size=4").json()
    assert body["count"] == MAX_TEACHING_ITEMS + 1 and len(body["results"]) == 4
    assert body["next"] and body["unread"] == MAX_TEACHING_ITEMS + 1
    marked = api(expert).post(f"{INBOX}/read", {"ids": [body["results"][0]["id"]]}, format="json")
    assert marked.json() == {"marked": 1, "unread": MAX_TEACHING_ITEMS}


def test_the_inbox_needs_a_signed_in_user(api):
    assert api().get(INBOX).status_code == 401
    assert api().patch(f"{INBOX}/settings", {"delivery": "daily"}, format="json").status_code == 401


def test_reading_makes_no_room_for_more_items_the_same_day(space, twelve, expert):
    from tests.community.conftest import _contradiction, _inbox_rule

    mine, _, rows = twelve
    notify_teachings_disputed(space, rows)
    notifications.notifications_mark_read(user=expert)
    later = [
        _contradiction(space, mine, _inbox_rule(space, expert, 60 + i), 0.99) for i in range(3)
    ]
    notify_teachings_disputed(space, later)
    unread = list(Notification.objects.filter(user=expert, read_at__isnull=True))
    assert [i.group.split("@")[0] for i in unread] == [notifications.MORE_DISPUTES]
    assert unread[0].count == 3
    assert Notification.objects.filter(user=expert).count() == MAX_TEACHING_ITEMS + 1
