"""Every error has the body of API.md: {"errors": [{"field", "code", "message"}]}."""

import pytest

pytestmark = pytest.mark.django_db


def _assert_error_body(response, status, code=None, field="unset"):
    assert response.status_code == status, response.content
    errors = response.json()["errors"]
    assert errors and all({"field", "code", "message"} <= set(e) for e in errors)
    if code is not None:
        assert code in {e["code"] for e in errors}
    if field != "unset":
        assert field in {e["field"] for e in errors}
    return errors


def test_400_names_the_field(api):
    response = api().post("/api/v1/users", {"password": "x"}, format="json")
    _assert_error_body(response, 400, code="required", field="username")


def test_400_for_malformed_json(api):
    response = api().post("/api/v1/users", "{not json", content_type="application/json")
    _assert_error_body(response, 400, code="parse_error", field=None)


def test_401_without_credentials(api):
    _assert_error_body(api().get("/api/v1/me"), 401, code="not_authenticated")


def test_401_with_a_wrong_token(api):
    response = api().get("/api/v1/me", HTTP_AUTHORIZATION="Token " + "0" * 40)
    _assert_error_body(response, 401, code="authentication_failed")


def test_403_for_a_non_moderator(api, space, teacher):
    response = api(teacher).patch("/api/v1/spaces/serve", {"name": "x"}, format="json")
    _assert_error_body(response, 403, code="not_a_moderator")


def test_404_for_a_missing_object_and_an_unknown_path(api, owner):
    _assert_error_body(api(owner).get("/api/v1/spaces/nope"), 404, code="not_found")
    _assert_error_body(api(owner).get("/api/v1/no/such/path"), 404, code="not_found")


def test_405_for_a_wrong_method(api, owner):
    _assert_error_body(api(owner).delete("/api/v1/me"), 405, code="method_not_allowed")


def test_a_rate_limit_keyed_by_any_username_is_a_valid_cache_key():
    import warnings

    from django.core.cache import CacheKeyWarning

    from mola.clients import limit_clear, limit_reached

    name = "x\x8a ñ " + "y" * 300
    with warnings.catch_warnings():
        warnings.simplefilter("error", CacheKeyWarning)
        assert limit_reached("login-account", name, "1/min") == 0
        assert limit_reached("login-account", name, "1/min") > 0
        limit_clear("login-account", name, "1/min")
        assert limit_reached("login-account", name, "1/min") == 0
