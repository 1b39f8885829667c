"""The OpenAPI schema clients generate code from: valid, warning-free, covering the contract."""

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_the_schema_is_valid_and_has_no_warnings(tmp_path):
    out = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    text = out.read_text()
    for path in (
        "/api/v1/spaces/{slug}/predict",
        "/api/v1/spaces/{slug}/keys/{prefix}",
        "/api/v1/spaces/{slug}/contradictions",
        "/api/v1/threads/{thread_id}/resolve",
    ):
        assert f"  {path}:" in text


def test_the_rest_reference_in_docs_is_the_schema_written_out():
    """docs/api-reference.md lists what the server serves; rewrite it with
    ``python manage.py api_reference`` after changing an endpoint."""
    from mola.api_reference import REFERENCE, api_reference

    assert REFERENCE.read_text() == api_reference(), "run: python manage.py api_reference"


def test_every_integer_in_the_schema_has_the_bounds_the_server_enforces(api, owner, space):
    from drf_spectacular.generators import SchemaGenerator

    from mola.api.parsers import INT_MAX, INT_MIN
    from mola.api.schema import integer_schemas

    schema = SchemaGenerator().get_schema(request=None, public=True)
    integers = list(integer_schemas(schema))
    assert len(integers) > 50
    assert all(INT_MIN <= n["minimum"] <= n["maximum"] <= INT_MAX for n in integers)
    cases = schema["paths"]["/api/v1/spaces/{slug}/cases"]["get"]["parameters"]
    page_size = next(p for p in cases if p["name"] == "page_size")["schema"]
    assert (page_size["minimum"], page_size["maximum"]) == (INT_MIN, INT_MAX)
    # Past them the server answers what the schema now says: invalid, a 400 naming it.
    answer = api(owner).get(f"/api/v1/spaces/{space.slug}/cases?page_size={INT_MAX + 1}")
    assert answer.status_code == 400 and answer.json()["errors"][0]["field"] == "page_size"
