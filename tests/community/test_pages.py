"""The community's web pages: a thread worked end to end through its forms, and the
contributors, audit and notifications pages."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.factories import SPACE_PAGES as P

pytestmark = pytest.mark.django_db


def _as(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_thread_through_its_forms(space, thread, dispute, teacher, expert, moderator, owner):
    front, elbow = dispute
    url = f"{P}/threads/{thread.pk}/"
    page = _as(expert).get(url)
    assert page.status_code == 200
    assert b"High tosses: which cue?" in page.content
    assert b'id="resolve-form"' not in page.content  # an expert is not a moderator

    posted = _as(expert).post(
        url, {"action": "post", "body": "Elbow, clearly.", "supports": [f"rule:{elbow.pk}"]}
    )
    assert posted.status_code == 302
    page = _as(teacher).get(url)
    assert b"Elbow, clearly." in page.content
    assert b"weight 3" in page.content  # one expert supports the elbow rule
    assert b"novice 1, intermediate 2, expert 3, master 4" in page.content

    resolve = _as(moderator).get(url)
    assert b'id="resolve-form"' in resolve.content
    done = _as(moderator).post(
        url,
        {
            "action": "resolve",
            "outcome": "prefer",
            f"choice-rule:{front.pk}": "retire",
            f"choice-rule:{elbow.pk}": "keep",
            "note": "The elbow causes it.",
        },
    )
    assert done.status_code == 302
    thread.refresh_from_db()
    assert thread.status == "resolved"
    page = _as(teacher).get(url)
    assert b'id="appeal-form"' in page.content
    assert b'id="appeal-form"' not in _as(expert).get(url).content
    _as(teacher).post(url, {"action": "appeal", "reason": "Tall servers."})
    thread.refresh_from_db()
    assert thread.status == "appealed" and thread.assigned_to == owner


def test_a_failed_resolution_says_why(space, thread, moderator):
    url = f"{P}/threads/{thread.pk}/"
    response = _as(moderator).post(
        url, {"action": "resolve", "outcome": "prefer", "note": "x"}, follow=True
    )
    assert b"Name the teachings to retire." in response.content
    thread.refresh_from_db()
    assert thread.status == "open"


def test_an_unknown_thread_is_a_404(space, teacher):
    assert _as(teacher).get(f"{P}/threads/999/").status_code == 404


def test_the_lists(space, thread, teacher, moderator):
    assert b"High tosses" in _as(teacher).get(f"{P}/threads/").content
    contributors = _as(teacher).get(f"{P}/contributors/")
    assert contributors.status_code == 200 and b"expert" in contributors.content
    audit = _as(teacher).get(f"{P}/audit/")
    assert audit.status_code == 200
    assert b"Member Update" in audit.content  # the fixtures set roles and expertise


def test_notifications_page_and_mark_read(space, thread, expert):
    client = _as(expert)
    page = client.get("/notifications/")
    assert page.status_code == 200
    assert b"opened a thread about your teaching" in page.content
    client.post("/notifications/", {})
    assert b"0 unread" in client.get("/notifications/").content
