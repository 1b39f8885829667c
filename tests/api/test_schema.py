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
