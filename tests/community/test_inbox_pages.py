"""The inbox page: the unread count in every page's header, grouped items with links that
mark them read, pages, mark read (one and all), the delivery settings, and whose items."""

from __future__ import annotations

import pytest
from django.test import Client

from community.models import Notification
from community.services.notifications import notify_teachings_disputed

pytestmark = pytest.mark.django_db


def _as(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_header_counts_unread_items_on_every_page(space, twelve, expert):
    notify_teachings_disputed(space, twelve[2])
    page = _as(expert).get("/spaces/serve/")
    assert b'aria-label="9 unread"' in page.content  # 8 rules of their own + 1 for the rest
    _as(expert).post("/notifications/", {})
    assert b"unread" not in _as(expert).get("/spaces/serve/").content.split(b"</header>")[0]


def test_a_grouped_item_links_to_its_disputes_and_is_read_on_the_way(
    space,
    twelve,
    teacher,
):
    mine, _, rows = twelve
    notify_teachings_disputed(space, rows)
    client = _as(teacher)
    page = client.get("/notifications/").content.decode()
    assert f"12 new disputes about your rule #{mine.pk}" in page
    item = Notification.objects.get(user=teacher)
    opened = client.get(f"/notifications/{item.pk}/open/")
    assert opened.status_code == 302
    assert (
        opened["Location"] == f"/spaces/serve/contradictions/?teaching=rule%3A{mine.pk}&status=all"
    )
    item.refresh_from_db()
    assert item.read_at is not None


def test_a_thread_item_links_to_the_thread(space, thread, expert):
    item = Notification.objects.get(user=expert)
    opened = _as(expert).get(f"/notifications/{item.pk}/open/")
    assert opened["Location"] == f"/spaces/serve/threads/{thread.pk}/"


def test_nobody_opens_anothers_item(space, thread, expert, teacher):
    item = Notification.objects.get(user=expert)
    assert _as(teacher).get(f"/notifications/{item.pk}/open/").status_code == 404
    item.refresh_from_db()
    assert item.read_at is None


def test_the_inbox_pages_and_marks_one_read(space, twelve, expert):
    notify_teachings_disputed(space, twelve[2])
    client = _as(expert)
    first = client.get("/notifications/?page=1")
    assert b"Page 1 of 1" not in first.content  # 9 items fit one page of 25: no pager
    one = Notification.objects.filter(user=expert).first()
    client.post("/notifications/", {"ids": [one.pk], "next": "/notifications/?unread=true"})
    listed = client.get("/notifications/?unread=true").content.decode()
    assert "8 unread" in listed and f'name="ids" value="{one.pk}"' not in listed


def test_many_items_page(space, expert):
    Notification.objects.bulk_create(
        Notification(user=expert, space=space, kind="post", message=f"m{i}") for i in range(30)
    )
    client = _as(expert)
    first = client.get("/notifications/").content.decode()
    # Newest first, 25 a page: m29..m5 here, m4..m0 on page 2 (match whole links: a CSRF
    # token can contain "m4").
    assert "Page 1 of 2" in first and ">m29</a>" in first and ">m5</a>" in first
    assert ">m4</a>" not in first
    second = client.get("/notifications/?page=2").content.decode()
    assert "Page 2 of 2" in second and ">m0</a>" in second and ">m4</a>" in second


def test_the_delivery_settings_form(space, expert):
    client = _as(expert)
    client.post("/notifications/settings/", {"delivery": "daily", "digest_hour": "18"})
    page = client.get("/notifications/").content.decode()
    assert '<option value="daily" selected>' in page and '<option value="18" selected>' in page
    bad = client.post("/notifications/settings/", {"delivery": "hourly"}, follow=True)
    assert "delivery is one of immediate, daily." in bad.content.decode()
