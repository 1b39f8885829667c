import pytest

from tests.factories import PASSWORD, make_user

pytestmark = pytest.mark.django_db


def test_it_signs_up_and_returns_a_working_token(api):
    response = api().post("/api/v1/users", {"username": "zoe", "password": PASSWORD}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["username"] == "zoe" and body["id"] > 0
    me = api().get("/api/v1/me", HTTP_AUTHORIZATION=f"Token {body['token']}")
    assert me.status_code == 200
    assert me.json() == {"id": body["id"], "username": "zoe", "memberships": []}


def test_it_refuses_a_taken_username_case_insensitively(api):
    make_user("Zoe")
    response = api().post("/api/v1/users", {"username": "zoe", "password": PASSWORD}, format="json")
    assert response.status_code == 409
    assert response.json()["errors"][0]["field"] == "username"


def test_it_refuses_a_weak_password_and_creates_nobody(api, django_user_model):
    response = api().post("/api/v1/users", {"username": "zoe", "password": "123"}, format="json")
    assert response.status_code == 400
    assert {e["field"] for e in response.json()["errors"]} == {"password"}
    assert not django_user_model.objects.filter(username="zoe").exists()


def test_it_gives_a_token_for_good_credentials_only(api):
    make_user("zoe")
    ok = api().post("/api/v1/auth/token", {"username": "zoe", "password": PASSWORD}, format="json")
    assert ok.status_code == 200 and len(ok.json()["token"]) == 64
    bad = api().post("/api/v1/auth/token", {"username": "zoe", "password": "nope"}, format="json")
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["code"] == "invalid_credentials"


def test_me_lists_memberships(api, space, owner):
    body = api(owner).get("/api/v1/me").json()
    assert body["memberships"] == [{"space": "serve", "role": "owner", "expertise": "master"}]
