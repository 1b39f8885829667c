"""Each community endpoint × each kind of caller. One table, read top to bottom."""

from __future__ import annotations

import pytest

from tests.conftest import API_ROLES as ROLES
from tests.factories import SPACE_API as S

pytestmark = pytest.mark.django_db


# endpoint: expected status per role, in ROLES order.
MATRIX = {
    "thread_list": [401, 200, 200, 200, 200, 200, 403],
    "thread_open": [401, 403, 201, 201, 201, 201, 403],
    "thread_read": [401, 200, 200, 200, 200, 200, 403],
    "post": [401, 403, 201, 201, 201, 201, 403],
    "resolve": [401, 403, 403, 403, 200, 200, 403],
    # the resolution retired the teacher's rule: only the teacher may appeal
    "appeal": [401, 403, 403, 201, 403, 403, 403],
    "contributors": [401, 200, 200, 200, 200, 200, 403],
    "audit": [401, 403, 200, 200, 200, 200, 403],
    # fixtures: novice and teacher are not experts, so they do not review
    "review": [401, 403, 403, 403, 200, 200, 403],
    "notifications": [401, 200, 200, 200, 200, 200, 403],
    "notifications_read": [401, 200, 200, 200, 200, 200, 403],
    "rollback": [401, 403, 403, 403, 200, 200, 403],
}
CASES = [
    (endpoint, role, statuses[i])
    for endpoint, statuses in MATRIX.items()
    for i, role in enumerate(ROLES)
]


def _resolved(thread, dispute, moderator, role):
    from community.services.resolutions import thread_resolve

    front, _ = dispute
    decider = moderator
    if role == "moderator":  # keep the caller from being the decider, for a fair test
        from teaching.models import Membership

        decider = Membership.objects.get(space=thread.space, role="owner").user
    thread_resolve(
        thread=thread,
        user=decider,
        outcome="prefer",
        retire=[{"type": "rule", "id": front.pk}],
        note="The elbow is the cause.",
    )


@pytest.mark.parametrize(("endpoint", "role", "expected"), CASES)
def test_permission(api, people, space, thread, dispute, moderator, endpoint, role, expected):
    _, elbow = dispute
    if endpoint == "appeal":
        _resolved(thread, dispute, moderator, role)
    client = api(people[role])
    t = f"/api/v1/threads/{thread.pk}"
    ref = {"type": "rule", "id": elbow.pk}
    response = {
        "thread_list": lambda: client.get(f"{S}/threads"),
        "thread_open": lambda: client.post(
            f"{S}/threads", {"title": "About this", "teachings": [ref]}, format="json"
        ),
        "thread_read": lambda: client.get(t),
        "post": lambda: client.post(
            f"{t}/posts", {"body": "I agree", "supports": [ref]}, format="json"
        ),
        "resolve": lambda: client.post(
            f"{t}/resolve", {"outcome": "dismiss", "note": "Both hold."}, format="json"
        ),
        "appeal": lambda: client.post(f"{t}/appeal", {"reason": "Look again."}, format="json"),
        "contributors": lambda: client.get(f"{S}/contributors"),
        "audit": lambda: client.get(f"{S}/audit"),
        "review": lambda: client.get(f"{S}/review"),
        "notifications": lambda: client.get("/api/v1/me/notifications"),
        "notifications_read": lambda: client.post(
            "/api/v1/me/notifications/read", {}, format="json"
        ),
        "rollback": lambda: client.post(f"{S}/members/teacher/rollback", {}, format="json"),
    }[endpoint]()
    assert response.status_code == expected, response.content
    if expected >= 400:
        assert response.json()["errors"][0]["code"]


INVALID = {  # a body each endpoint refuses with 400 from a caller who may call it
    "thread_open": {"title": ""},
    "post": {},
    "resolve": {"outcome": "prefer"},  # no note
    "appeal": {},  # no reason
    "rollback": {"since": "not a date"},
}
REFUSED = [
    (endpoint, role, statuses[i])
    for endpoint, statuses in MATRIX.items()
    if endpoint in INVALID
    for i, role in enumerate(ROLES)
    if statuses[i] in (401, 403)
]


@pytest.mark.parametrize(("endpoint", "role", "expected"), REFUSED)
def test_who_may_not_call_is_refused_whatever_the_body(
    api, people, space, thread, dispute, moderator, endpoint, role, expected
):
    """Authorization comes before validation: a non-moderator posting a half-filled
    resolution gets 403, not a 400 about the missing note."""
    if endpoint == "appeal":
        _resolved(thread, dispute, moderator, role)
    t = f"/api/v1/threads/{thread.pk}"
    path = {
        "thread_open": f"{S}/threads",
        "post": f"{t}/posts",
        "resolve": f"{t}/resolve",
        "appeal": f"{t}/appeal",
        "rollback": f"{S}/members/teacher/rollback",
    }[endpoint]
    response = api(people[role]).post(path, INVALID[endpoint], format="json")
    assert response.status_code == expected, (endpoint, role, response.content)
    # ... while the same body from one who may is refused as invalid
    allowed = people["teacher" if endpoint == "appeal" else "owner"]
    answer = api(allowed).post(path, INVALID[endpoint], format="json")
    assert answer.status_code == 400, answer.content
