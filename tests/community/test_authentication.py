"""Authentication that resists abuse: failed logins are limited per account and per client
address on both doors, the client address is the connection's unless a trusted proxy says
otherwise, sign-ups are limited on both doors, tokens are stored hashed, expire, rotate and
can be revoked, and a password change signs the user out everywhere."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from knox.models import AuthToken

from tests.factories import PASSWORD, make_user

pytestmark = pytest.mark.django_db

TOKEN = "/api/v1/auth/token"


@pytest.fixture
def olga(db):
    return make_user("olga")


def _login(api, username: str, password: str, address: str = "10.0.0.1", **headers):
    return api().post(
        TOKEN,
        {"username": username, "password": password},
        format="json",
        REMOTE_ADDR=address,
        **headers,
    )


def test_the_right_password_is_refused_after_too_many_wrong_ones(api, olga, settings):
    settings.LOGIN_FAILURES_PER_ACCOUNT = "5/15min"
    for _ in range(5):
        assert _login(api, "olga", "wrong").status_code == 400
    refused = _login(api, "olga", PASSWORD)
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert refused.json()["errors"][0]["code"] == "rate_limited"
    # Spread over many addresses, the account limit still holds.
    assert _login(api, "olga", PASSWORD, address="10.9.9.9").status_code == 429


def test_one_address_guessing_many_accounts_is_stopped(api, olga, settings):
    settings.LOGIN_FAILURES_PER_ADDRESS = "8/15min"
    for n in range(8):
        assert _login(api, f"someone{n}", "wrong", address="10.0.0.66").status_code == 400
    assert _login(api, "olga", PASSWORD, address="10.0.0.66").status_code == 429
    assert _login(api, "olga", PASSWORD, address="10.0.0.67").status_code == 200


def test_the_web_login_shares_the_limit(olga, settings):
    settings.LOGIN_FAILURES_PER_ACCOUNT = "5/15min"
    browser = Client(REMOTE_ADDR="10.0.0.2")
    for _ in range(5):
        assert browser.post("/login/", {"username": "olga", "password": "x"}).status_code == 400
    response = browser.post("/login/", {"username": "olga", "password": PASSWORD})
    assert response.status_code == 429
    assert "_auth_user_id" not in browser.session


def test_rotating_x_forwarded_for_does_not_escape_the_signup_limit(api, settings):
    settings.SIGNUP_RATE = "3/h"
    for n in range(4):
        response = api().post(
            "/api/v1/users",
            {"username": f"bot{n}", "password": PASSWORD},
            format="json",
            REMOTE_ADDR="10.0.0.3",
            HTTP_X_FORWARDED_FOR=f"192.0.2.{n}",
        )
    assert response.status_code == 429, response.json()


def test_a_trusted_proxy_names_the_client(api, settings):
    settings.SIGNUP_RATE = "1/h"
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    from mola import clients

    clients._trusted.cache_clear()
    try:
        for n in range(2):  # two clients behind the same proxy: one sign-up each
            response = api().post(
                "/api/v1/users",
                {"username": f"person{n}", "password": PASSWORD},
                format="json",
                REMOTE_ADDR="10.0.0.4",
                HTTP_X_FORWARDED_FOR=f"198.51.100.7, 192.0.2.{n}, 10.1.1.1",
            )
            assert response.status_code == 201, response.json()
    finally:
        settings.TRUSTED_PROXIES = []
        clients._trusted.cache_clear()


def test_the_web_signup_is_limited_too(settings):
    settings.SIGNUP_RATE = "2/h"
    browser = Client(REMOTE_ADDR="10.0.0.5")
    for n in range(3):
        response = browser.post("/signup/", {"username": f"web{n}", "password": PASSWORD})
        browser.logout()
    assert response.status_code == 429


def test_tokens_are_stored_hashed_rotate_and_expire(api, olga):
    first = _login(api, "olga", PASSWORD).json()["token"]
    second = _login(api, "olga", PASSWORD).json()["token"]
    assert first != second
    stored = AuthToken.objects.filter(user=olga)
    assert stored.count() == 2
    for row in stored.values():
        assert first not in str(row) and second not in str(row)
    me = api()
    me.credentials(HTTP_AUTHORIZATION=f"Token {first}")
    assert me.get("/api/v1/me").status_code == 200
    AuthToken.objects.filter(user=olga).update(expiry=timezone.now() - timedelta(seconds=1))
    assert me.get("/api/v1/me").status_code == 401


def test_a_token_can_be_revoked_alone_or_with_all_others(api, olga):
    first = _login(api, "olga", PASSWORD).json()["token"]
    second = _login(api, "olga", PASSWORD).json()["token"]
    third = _login(api, "olga", PASSWORD).json()["token"]
    clients = {}
    for token in (first, second, third):
        clients[token] = api()
        clients[token].credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert clients[first].post("/api/v1/auth/logout").status_code == 204
    assert clients[first].get("/api/v1/me").status_code == 401
    assert clients[second].get("/api/v1/me").status_code == 200
    assert clients[second].post("/api/v1/auth/logout-all").status_code == 204
    assert clients[third].get("/api/v1/me").status_code == 401


def test_a_password_change_signs_out_every_session_and_token(api, olga):
    browser = Client()
    assert browser.post("/login/", {"username": "olga", "password": PASSWORD}).status_code == 302
    assert browser.get("/api/v1/me").status_code == 200
    old = _login(api, "olga", PASSWORD).json()["token"]
    client = api()
    client.credentials(HTTP_AUTHORIZATION=f"Token {old}")
    changed = client.post(
        "/api/v1/me/password",
        {"password": PASSWORD, "new_password": "another-long-pass-phrase-2"},
        format="json",
    )
    assert changed.status_code == 200
    assert client.get("/api/v1/me").status_code == 401  # the old token is revoked
    assert browser.get("/api/v1/me").status_code in (401, 403)  # the session has ended
    fresh = api()
    fresh.credentials(HTTP_AUTHORIZATION=f"Token {changed.json()['token']}")
    assert fresh.get("/api/v1/me").status_code == 200


def test_a_token_header_that_is_not_text_is_401(api, olga):
    client = api()
    client.credentials(HTTP_AUTHORIZATION="Token \xff\xfe")
    assert client.get("/api/v1/me").status_code == 401
