"""Running a space from the pages: keys, members, rollback, the schema editor, reviews."""

from __future__ import annotations

import re

from teaching.models import Membership, Rule, SpaceApiKey
from tests.factories import SPACE_PAGES as S


def test_a_moderator_creates_a_key_that_is_shown_once(client_as, taught, api):
    client = client_as("moderator")
    response = client.post(f"{S}/keys/", {"name": "coach app"})
    key = re.search(r'id="new-key" class="code" value="([^"]+)"', response.content.decode())
    assert key is not None
    assert SpaceApiKey.objects.filter(space__slug="serve", name="coach app").exists()
    assert api(key.group(1)).get(f"/api/v1{S}/model").status_code == 200
    assert key.group(1) not in client.get(f"{S}/keys/").content.decode()


def test_a_teacher_cannot_create_keys(client_as, taught):
    assert client_as("teacher").post(f"{S}/keys/", {"name": "x"}).status_code == 403
    assert not SpaceApiKey.objects.filter(name="x").exists()


def test_a_moderator_verifies_expertise(client_as, taught, moderator):
    client_as("moderator").post(
        f"{S}/members/novice/update/", {"role": "teacher", "expertise": "expert"}
    )
    membership = Membership.objects.get(user__username="novice")
    assert membership.expertise == "expert" and membership.expertise_verified_by == moderator


def test_a_moderator_cannot_make_an_owner(client_as, taught):
    client_as("moderator").post(
        f"{S}/members/teacher/update/", {"role": "owner", "expertise": "expert"}
    )
    assert Membership.objects.get(user__username="teacher").role == "teacher"


def test_a_moderator_rolls_a_member_back(client_as, taught):
    response = client_as("moderator").post(f"{S}/members/teacher/rollback/")
    assert response.status_code == 302
    assert Rule.objects.get(pk=taught["rule"].pk).status == "retired"


def test_a_teacher_cannot_roll_back(client_as, taught):
    assert client_as("teacher").post(f"{S}/members/novice/rollback/").status_code == 403
    assert Rule.objects.get(pk=taught["proposed"].pk).status == "proposed"


def test_a_schema_change_that_breaks_teachings_lists_them(client_as, taught, space):
    features = [f for f in space.features if f["name"] != "toss_height_cm"]
    import json

    response = client_as("owner").post(
        f"{S}/settings/",
        {
            "name": space.name,
            "features": json.dumps(features),
            "labels": json.dumps(space.labels),
            "review": "on",
        },
    )
    assert response.status_code == 409
    assert f"/t/concept/{taught['concept'].pk}/" in response.content.decode()
    space.refresh_from_db()
    assert len(space.features) == 4


def test_invalid_schema_json_is_shown_by_the_field(client_as, taught):
    response = client_as("owner").post(
        f"{S}/settings/", {"name": "Serve", "features": "[", "labels": "[]"}
    )
    assert response.status_code == 400
    assert 'id="id_features-errors"' in response.content.decode()


def test_a_moderator_changes_the_name_but_not_the_schema(client_as, taught, space):
    client_as("moderator").post(f"{S}/settings/", {"name": "Serving", "features": "[]"})
    space.refresh_from_db()
    assert space.name == "Serving" and len(space.features) == 4


def test_a_moderator_endorses_a_proposed_rule(client_as, taught):
    proposed = taught["proposed"]
    client = client_as("moderator")
    assert f"#{proposed.pk}" in client.get(f"{S}/review/").content.decode()
    client.post(f"{S}/review/rule/{proposed.pk}/", {"decision": "endorse"})
    proposed.refresh_from_db()
    assert proposed.status == "active"


def test_a_moderator_rejects_a_proposed_rule(client_as, taught):
    proposed = taught["proposed"]
    client_as("moderator").post(f"{S}/review/rule/{proposed.pk}/", {"decision": "reject"})
    proposed.refresh_from_db()
    assert proposed.status == "rejected"


def test_an_untrusted_teacher_cannot_review(client_as, taught):
    proposed = taught["proposed"]
    response = client_as("teacher").post(f"{S}/review/rule/{proposed.pk}/", {"decision": "endorse"})
    assert response.status_code == 403
    proposed.refresh_from_db()
    assert proposed.status == "proposed"


def test_a_moderator_revokes_a_key_from_the_keys_page(client_as, taught, api, space, owner):
    from teaching.services.keys import api_key_create

    created, key = api_key_create(space=space, user=owner, name="old app")
    client = client_as("moderator")
    assert f"keys/{created.prefix}/revoke/" in client.get(f"{S}/keys/").content.decode()

    response = client.post(f"{S}/keys/{created.prefix}/revoke/", follow=True)

    assert "revoked" in response.content.decode()
    assert SpaceApiKey.objects.get(pk=created.pk).revoked
    assert api(key).get(f"/api/v1{S}/model").status_code == 401


def test_a_teacher_cannot_revoke_keys(client_as, taught, space, owner):
    from teaching.services.keys import api_key_create

    created, _ = api_key_create(space=space, user=owner, name="old app")
    assert client_as("teacher").post(f"{S}/keys/{created.prefix}/revoke/").status_code == 403
    assert not SpaceApiKey.objects.get(pk=created.pk).revoked
