"""Sign up, log in, log out, join a space."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.test import Client

from teaching.models import Membership
from tests.factories import PASSWORD


def test_signing_up_logs_in(db):
    client = Client()
    response = client.post("/signup/", {"username": "zoe", "password": PASSWORD})
    assert response.status_code == 302
    assert "zoe" in client.get("/").content.decode()


def test_a_weak_password_is_shown_by_the_field(db):
    response = Client().post("/signup/", {"username": "zoe", "password": "123"})
    assert response.status_code == 400
    assert 'id="id_password-errors"' in response.content.decode()
    assert not get_user_model().objects.filter(username="zoe").exists()


def test_a_taken_name_is_refused(owner):
    response = Client().post("/signup/", {"username": "OWNER", "password": PASSWORD})
    assert response.status_code == 400
    assert "taken" in response.content.decode()


def test_logging_in_goes_to_next(owner, space):
    response = Client().post(
        "/login/", {"username": "owner", "password": PASSWORD, "next": "/spaces/serve/"}
    )
    assert response["Location"] == "/spaces/serve/"


def test_next_never_leaves_the_site(owner):
    response = Client().post(
        "/login/", {"username": "owner", "password": PASSWORD, "next": "https://evil.example/"}
    )
    assert response["Location"] == "/"


def test_a_wrong_password_is_refused(owner):
    response = Client().post("/login/", {"username": "owner", "password": "nope"})
    assert response.status_code == 400
    assert "Wrong username or password" in response.content.decode()


def test_logging_out(client_as, taught):
    client = client_as("teacher")
    client.post("/logout/")
    assert client.get("/spaces/serve/").status_code == 302


def test_an_outsider_joins_a_space(client_as, taught, outsider):
    client = client_as("outsider")
    response = client.post("/spaces/serve/join/")
    assert response["Location"] == "/spaces/serve/"
    membership = Membership.objects.get(user=outsider)
    assert (membership.role, membership.expertise) == ("teacher", "novice")
    assert client.get("/spaces/serve/").status_code == 200
