"""Client API keys: created and revoked by moderators, listed without the secret."""

import pytest

from community.models import AuditEntry
from teaching.models import SpaceApiKey
from tests.conftest import API_ROLES as ROLES
from tests.factories import SPACE_API as S
from tests.factories import SPACE_FEATURES, SPACE_LABELS, make_user

pytestmark = pytest.mark.django_db


# endpoint: expected status per role, in ROLES order.
MATRIX = {
    "list": [401, 403, 403, 403, 200, 200, 403],
    "create": [401, 403, 403, 403, 201, 201, 403],
    "revoke": [401, 403, 403, 403, 204, 204, 403],
}


@pytest.mark.parametrize(
    ("endpoint", "role", "expected"),
    [(e, role, statuses[i]) for e, statuses in MATRIX.items() for i, role in enumerate(ROLES)],
)
def test_permission(api, people, space, owner, endpoint, role, expected):
    from teaching.services.keys import api_key_create

    target, _ = api_key_create(space=space, user=owner, name="target")
    client = api(people[role])
    if endpoint == "list":
        response = client.get(f"{S}/keys")
    elif endpoint == "create":
        response = client.post(f"{S}/keys", {"name": "new"}, format="json")
    else:
        response = client.delete(f"{S}/keys/{target.prefix}")
    assert response.status_code == expected
    target.refresh_from_db()
    assert target.revoked == (endpoint == "revoke" and expected == 204)


def test_a_revoked_key_stops_working_at_once(api, space, moderator):
    created = api(moderator).post(f"{S}/keys", {"name": "coach app"}, format="json").json()
    assert api(created["key"]).get(f"{S}/model").status_code in (200, 409)

    assert api(moderator).delete(f"{S}/keys/{created['prefix']}").status_code == 204

    refused = api(created["key"]).post(f"{S}/predict", {"instances": [{}]}, format="json")
    assert refused.status_code == 401
    assert "revoked" in refused.json()["errors"][0]["message"]
    listed = api(moderator).get(f"{S}/keys").json()["results"]
    assert [(k["name"], k["revoked"]) for k in listed] == [("coach app", True)]


def test_the_list_never_shows_a_key(api, space, moderator):
    created = api(moderator).post(f"{S}/keys", {"name": "coach app"}, format="json").json()
    body = api(moderator).get(f"{S}/keys").content.decode()
    assert created["prefix"] in body
    assert created["key"] not in body
    assert api(moderator).get(f"{S}/keys").json()["results"][0]["created_by"] == "moderator"


def test_revoking_is_audited_once_and_idempotent(api, space, moderator):
    created = api(moderator).post(f"{S}/keys", {"name": "coach app"}, format="json").json()
    for _ in range(2):
        assert api(moderator).delete(f"{S}/keys/{created['prefix']}").status_code == 204
    entries = AuditEntry.objects.filter(space=space, action="api_key_revoke")
    assert [(e.actor.username, e.target["name"]) for e in entries] == [("moderator", "coach app")]


def test_an_unknown_prefix_is_404_and_names_the_field(api, space, moderator):
    response = api(moderator).delete(f"{S}/keys/nosuchkey")
    assert response.status_code == 404
    assert response.json()["errors"][0]["field"] == "prefix"


def test_a_moderator_cannot_revoke_another_spaces_key(api, space, moderator):
    from teaching.services.keys import api_key_create
    from teaching.services.spaces import space_create

    other_owner = make_user("other_owner")
    other = space_create(
        user=other_owner, slug="swim", name="Swim", features=SPACE_FEATURES, labels=SPACE_LABELS
    )
    theirs, key = api_key_create(space=other, user=other_owner, name="theirs")

    assert api(moderator).delete(f"{S}/keys/{theirs.prefix}").status_code == 404
    assert not SpaceApiKey.objects.get(pk=theirs.pk).revoked
    assert api(key).get("/api/v1/spaces/swim/model").status_code in (200, 409)


def test_a_key_name_is_required_and_bounded(api, space, moderator):
    for body in ({}, {"name": ""}, {"name": "x" * 51}):
        response = api(moderator).post(f"{S}/keys", body, format="json")
        assert response.status_code == 400
        assert response.json()["errors"][0]["field"] == "name"
    assert not SpaceApiKey.objects.filter(space=space).exists()


def test_a_key_reads_only_its_own_space(api, space, owner):
    from teaching.services.keys import api_key_create
    from teaching.services.spaces import space_create

    other_owner = make_user("other_owner")
    space_create(
        user=other_owner, slug="swim", name="Swim", features=SPACE_FEATURES, labels=SPACE_LABELS
    )
    _, key = api_key_create(space=space, user=owner, name="ours")
    client = api(key)
    for path in ("model", "model/versions", "model/versions/1"):
        refused = client.get(f"/api/v1/spaces/swim/{path}")
        assert refused.status_code == 403
        assert refused.json()["errors"][0]["code"] == "wrong_space"
        assert client.get(f"/api/v1/spaces/nosuch/{path}").status_code == 404
    refused = client.post("/api/v1/spaces/swim/predict", {"instances": [{}]}, format="json")
    assert refused.json()["errors"][0]["code"] == "wrong_space"
    assert client.get(f"{S}/model").status_code in (200, 409)


def test_a_verified_key_is_read_again_each_call_and_checked_in_one_query(space, owner):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from teaching.models import Space
    from teaching.services.keys import api_key_create, api_key_verified

    created, key = api_key_create(space=space, user=owner, name="coach app")
    assert api_key_verified(key).pk == created.pk
    with CaptureQueriesContext(connection) as reads:
        again = api_key_verified(key)
    assert len(reads) == 1 and again.space.slug == space.slug
    again.space.name = "changed by a request"  # each call gets its own objects
    assert api_key_verified(key).space.name == space.name

    Space.objects.filter(pk=space.pk).update(name="Renamed", teaching_revision=99)
    seen = api_key_verified(key).space
    assert (seen.name, seen.teaching_revision) == ("Renamed", 99)

    prefix, _, secret = key.partition(".")
    other = secret[:-1] + ("y" if secret.endswith("x") else "x")
    assert api_key_verified(f"{prefix}.{other}") is None  # the prefix is not the key
    SpaceApiKey.objects.filter(pk=created.pk).update(revoked=True)
    assert api_key_verified(key) is None
