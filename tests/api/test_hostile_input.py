"""Hostile input gets the contract's answer — an error body with field, code and message,
never a 500, never a partial write: nesting, huge numbers, oversize bodies, NUL characters,
form-encoded bodies that used to slip past the checks."""

from __future__ import annotations

import pytest

from mola.errors import InvalidInput
from teaching.models import Rule
from tests.factories import SPACE_API as S

pytestmark = pytest.mark.django_db

BIG = 2**63  # one past the largest id any database stores


def _error(response, status: int, code: str, field=None) -> dict:
    assert response.status_code == status, response.content[:300]
    problem = response.json()["errors"][0]
    assert problem["code"] == code, problem
    if field is not None:
        assert problem["field"] == field, problem
    return problem


def _raw(client, path: str, body: bytes, method: str = "post"):
    return getattr(client, method)(path, body, content_type="application/json")


@pytest.mark.parametrize("path", [f"{S}/rules", f"{S}/predict", "/api/v1/spaces", "/api/v1/users"])
def test_deeply_nested_json_is_refused_on_every_json_endpoint(api, owner, space, path):
    for depth in (100, 100_000):
        body = b"[" * depth + b"]" * depth
        _error(_raw(api(owner), path, body), 400, "too_deep")
        nested = b'{"condition": ' + b'{"a":' * depth + b"1" + b"}" * depth + b"}"
        _error(_raw(api(owner), path, nested), 400, "too_deep")


def test_ids_past_64_bits_in_a_path_are_not_found(api, owner, space):
    for path in (f"{S}/rules/{BIG}", f"{S}/examples/{BIG}/history", f"/api/v1/threads/{BIG}"):
        response = api(owner).get(path)
        _error(response, 404, "not_found")


def test_ids_past_64_bits_in_a_body_or_query_are_refused(api, owner, space, teacher):
    response = api(teacher).post(
        f"{S}/examples",
        {"features": {"toss_height_cm": 10}, "label": "no cue", "refutes": BIG},
        format="json",
    )
    _error(response, 400, "out_of_range", field="refutes")
    huge = b'{"features": {"toss_height_cm": 1' + b"0" * 40 + b'}, "label": "no cue"}'
    _error(_raw(api(teacher), f"{S}/examples", huge), 400, "out_of_range")
    response = api(owner).get(f"{S}/contradictions", {"teaching": f"rule:{BIG}"})
    _error(response, 400, "out_of_range", field="teaching")


def test_an_oversize_body_is_413_in_the_error_format(api, teacher, space):
    body = {"condition": "toss_height_cm > 1", "label": "no cue", "rationale": "x" * 3_000_000}
    _error(api(teacher).post(f"{S}/rules", body, format="json"), 413, "too_large")
    assert not Rule.objects.exists()


def test_a_predict_body_is_capped_at_what_10000_instances_need(api, api_key, space):
    instance = b'{"toss_height_cm": 10.5, "elbow_angle": 120, "serve_type": "float", '
    instance += b'"fatigued": false}'
    body = b'{"instances": [' + b",".join([instance] * 200_000) + b"]}"  # ~15 MB
    _error(_raw(api(api_key), f"{S}/predict", body), 413, "too_large")
    fits = b'{"instances": [' + b",".join([instance] * 10_000) + b"]}"
    assert _raw(api(api_key), f"{S}/predict", fits).status_code != 413


def test_nul_characters_and_lone_surrogates_are_refused(api, teacher, space):
    for rationale in ("a\x00b", "a\ud800b"):
        body = {"condition": "toss_height_cm > 1", "label": "no cue", "rationale": rationale}
        raw = __import__("json").dumps(body).encode()
        _error(_raw(api(teacher), f"{S}/rules", raw), 400, "invalid_text", "rationale")
    assert not Rule.objects.exists()


def test_form_encoded_blank_role_and_settings_are_refused(api, owner, teacher, space):
    response = api(owner).patch(f"{S}/members/teacher", {"role": ""})
    _error(response, 400, "invalid_choice", field="role")
    response = api(owner).patch(S, {"settings": "{}"})
    assert response.status_code == 400, response.content[:300]
    response = api(owner).patch(S, {"settings": {"review_novice_teachings": {}}}, format="json")
    _error(response, 400, "invalid", field="settings.review_novice_teachings")
    space.refresh_from_db()
    assert space.settings.get("review_novice_teachings", True) is True


def test_flat_objects_are_refused_one_level_past_the_depth_limit():
    """Flat objects in a list are checked without a frame of their own: at the limit they
    pass, one level deeper they are refused, with or without strings to check."""
    from mola.api.parsers import MAX_DEPTH, json_checked

    def nested(levels: int) -> bytes:  # a flat object at depth ``levels``
        return b"[" * (levels - 1) + b'{"a": 1.5, "b": "x"}' + b"]" * (levels - 1)

    for suspect in (b"", b"\\\\u0000"):  # the second: a backslash, then u0000 (no NUL)
        assert json_checked(nested(MAX_DEPTH).replace(b'"x"', b'"x' + suspect + b'"'))
        with pytest.raises(InvalidInput):
            json_checked(nested(MAX_DEPTH + 1).replace(b'"x"', b'"x' + suspect + b'"'))
