"""The REST reference (``docs/api-reference.md``) written from the OpenAPI schema, so it
lists exactly what the code serves. ``manage.py api_reference`` rewrites the file;
``tests/api/test_schema.py`` fails while the file differs from what the schema says."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from drf_spectacular.generators import SchemaGenerator

REFERENCE = Path(__file__).resolve().parents[1] / "docs" / "api-reference.md"
METHODS = ("get", "post", "put", "patch", "delete")


def _component(content: dict[str, Any] | None) -> str:
    """The schema component a request or response body uses, or its type."""
    if not content:
        return ""
    schema = next(iter(content.values())).get("schema", {})
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    if schema.get("type") == "array" and "$ref" in schema.get("items", {}):
        return "[" + schema["items"]["$ref"].rsplit("/", 1)[-1] + "]"
    return schema.get("type", "")


def _line(path: str, method: str, operation: dict[str, Any]) -> str:
    request = _component(operation.get("requestBody", {}).get("content"))
    responses = []
    for code, response in operation.get("responses", {}).items():
        body = _component(response.get("content"))
        responses.append(f"{code} {body}".strip())
    summary = (operation.get("description") or "").strip().splitlines()
    return (
        f"| `{method.upper()} {path}` | `{operation.get('operationId', '')}` "
        f"| {request or '—'} | {', '.join(responses)} | {summary[0] if summary else ''} |"
    )


def api_reference() -> str:
    """The reference, as markdown."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    lines = [
        "# REST reference (generated)",
        "",
        "Written by `python manage.py api_reference` from the OpenAPI schema the server",
        "serves at `/api/schema/`; do not edit by hand. What the calls mean and the",
        "conventions they share are in [`api.md`](api.md); the bodies' fields are the named",
        "components of the schema.",
        "",
        "| call | operation | request body | responses | note |",
        "| --- | --- | --- | --- | --- |",
    ]
    for path, item in schema["paths"].items():
        for method in METHODS:
            if method in item:
                lines.append(_line(path, method, item[method]))
    return "\n".join(lines) + "\n"
