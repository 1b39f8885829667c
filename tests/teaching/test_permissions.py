"""Each teaching endpoint × each kind of caller. One table, read top to bottom."""

import pytest

from tests.conftest import API_ROLES as ROLES
from tests.factories import SPACE_API as S
from tests.factories import make_user, row

pytestmark = pytest.mark.django_db


BODIES = {
    "concept": lambda n: {"name": f"c{n}", "definition": "toss_height_cm > 10"},
    "rule": lambda n: {"condition": "toss_height_cm > 10", "label": "no cue"},
    "example": lambda n: {"features": row(), "label": "no cue"},
}

# endpoint: expected status per role, in ROLES order.
MATRIX = {
    "list": [401, 200, 200, 200, 200, 200, 403],
    "read": [401, 200, 200, 200, 200, 200, 403],
    "history": [401, 200, 200, 200, 200, 200, 403],
    "create": [401, 403, 201, 201, 201, 201, 403],
    "edit": [401, 403, 403, 403, 200, 200, 403],
    "retire": [401, 403, 403, 403, 200, 200, 403],
    "revert": [401, 403, 403, 403, 200, 200, 403],
    "endorse": [401, 403, 403, 403, 200, 200, 403],
    "reject": [401, 403, 403, 403, 200, 200, 403],
}
CASES = [
    (endpoint, kind, role, statuses[i])
    for endpoint, statuses in MATRIX.items()
    for kind in BODIES
    for i, role in enumerate(ROLES)
]


def _teaching(client, kind, n):
    response = client.post(f"{S}/{kind}s", BODIES[kind](n), format="json")
    assert response.status_code == 201, response.json()
    return response.json()


@pytest.mark.parametrize(("endpoint", "kind", "role", "expected"), CASES)
def test_permission(api, people, space, owner, endpoint, kind, role, expected):
    author = make_user("author")
    from teaching.services.spaces import member_join, member_update

    member_join(space=space, user=author)
    novice_author = endpoint in ("endorse", "reject")
    member_update(
        space=space,
        user=owner,
        username="author",
        expertise="novice" if novice_author else "expert",
    )
    target = _teaching(api(author), kind, 0)
    client = api(people[role])
    base = f"{S}/{kind}s"
    one = f"{base}/{target['id']}"
    response = {
        "list": lambda: client.get(base),
        "read": lambda: client.get(one),
        "history": lambda: client.get(f"{one}/history"),
        "create": lambda: client.post(base, BODIES[kind](1), format="json"),
        "edit": lambda: client.patch(
            one,
            {
                "note"
                if kind == "example"
                else "description"
                if kind == "concept"
                else "rationale": "x"
            },
            format="json",
        ),
        "retire": lambda: client.delete(one),
        "revert": lambda: client.post(
            f"{one}/revert", {"revision": target["revision"]}, format="json"
        ),
        "endorse": lambda: client.post(f"{one}/endorse"),
        "reject": lambda: client.post(f"{one}/reject"),
    }[endpoint]()
    assert response.status_code == expected, (endpoint, kind, role, response.content)
    if expected >= 400:
        assert response.json()["errors"][0]["code"]


def test_the_author_may_edit_and_retire_their_own(api, space, teacher):
    rule = _teaching(api(teacher), "rule", 0)
    one = f"{S}/rules/{rule['id']}"
    assert api(teacher).patch(one, {"rationale": "y"}, format="json").status_code == 200
    assert api(teacher).delete(one).status_code == 200


INVALID = {  # a body each endpoint refuses with 400 from a caller who may call it
    "create": {},
    "edit": {"name": ["x"], "label": ["x"], "note": ["x"]},
    "revert": {"revision": 0},
    "endorse": {"note": ["x"]},
    "reject": {"note": ["x"]},
}
REFUSED = [
    (endpoint, kind, role, statuses[i])
    for endpoint, statuses in MATRIX.items()
    if endpoint in INVALID
    for kind in BODIES
    for i, role in enumerate(ROLES)
    if statuses[i] in (401, 403)
]


@pytest.mark.parametrize(("endpoint", "kind", "role", "expected"), REFUSED)
def test_who_may_not_call_is_refused_whatever_the_body(
    api, people, space, moderator, endpoint, kind, role, expected
):
    """Authorization comes before validation: a caller who may not gets 401/403, never a
    400 that tells them how to shape a body they may not send."""
    target = _teaching(api(moderator), kind, 0)
    one = f"{S}/{kind}s/{target['id']}"
    path, method = {
        "create": (f"{S}/{kind}s", "post"),
        "edit": (one, "patch"),
        "revert": (f"{one}/revert", "post"),
        "endorse": (f"{one}/endorse", "post"),
        "reject": (f"{one}/reject", "post"),
    }[endpoint]
    response = getattr(api(people[role]), method)(path, INVALID[endpoint], format="json")
    assert response.status_code == expected, (endpoint, kind, role, response.content)
    # ... while the same body from one who may is refused as invalid
    answer = getattr(api(people["owner"]), method)(path, INVALID[endpoint], format="json")
    assert answer.status_code == 400, answer.content
