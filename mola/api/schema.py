"""OpenAPI schema tweaks for our API layout (one view per operation, nested serializers),
and the error answers every operation may give, in the contract's error body."""

from collections.abc import Iterator
from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers


class ProblemSerializer(serializers.Serializer):
    field = serializers.CharField(allow_null=True, help_text="dotted path, null: the request")
    code = serializers.CharField()
    message = serializers.CharField()


class ErrorSerializer(serializers.Serializer):
    """``{"errors": [{field, code, message, …}]}``: every error answer of the API."""

    errors = ProblemSerializer(many=True)


BODY_METHODS = ("POST", "PUT", "PATCH")
ERROR_MEANINGS = {
    "400": "The body or a query parameter is invalid (each problem names its field).",
    "401": "The credentials are missing, unknown, expired or revoked.",
    "403": "The caller may not do this (not a member, not a moderator…).",
    "404": "No such space, teaching, thread or other object in the path.",
    "409": "The request conflicts with the current state (already done, limit reached…).",
    "413": "The body is larger than this operation accepts.",
    "429": "Too many requests: wait for `Retry-After` seconds.",
    "503": "The database is unavailable for a moment; nothing was written; send again.",
}


class MolaAutoSchema(AutoSchema):
    """Names the nested ``InputSerializer``/``OutputSerializer`` after their view, so the
    components of different views don't collide (``UserCreateInput``, ``MeOutput``…), and
    documents the error answers each operation can give (see ``error_codes``)."""

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        for code in self.error_codes(operation):
            if code not in operation["responses"]:
                answer = OpenApiResponse(ErrorSerializer, description=ERROR_MEANINGS[code])
                operation["responses"][code] = self._get_response_for_code(answer, code)
        return operation

    def error_codes(self, operation: dict) -> list[str]:
        """Any call may fail on its credentials (401), its permissions (403) or the database
        (503); one with a body or a query can be invalid (400); one naming an object in its
        path can miss it (404); a write can conflict (409), be too large (413) or be
        rate-limited (429), as can a throttled read."""
        parameters = operation.get("parameters", [])
        codes = ["401", "403", "503"]
        if "requestBody" in operation or any(p["in"] == "query" for p in parameters):
            codes.append("400")
        if any(p["in"] == "path" for p in parameters):
            codes.append("404")
        if self.method != "GET":
            codes += ["409", "429"]
        elif getattr(self.view, "throttle_classes", None):
            codes.append("429")
        if self.method in BODY_METHODS:
            codes.append("413")
        return sorted(codes)

    def _get_serializer_name(self, serializer, direction, bypass_extensions=False) -> str:
        name = super()._get_serializer_name(serializer, direction, bypass_extensions)
        cls = serializer if isinstance(serializer, type) else type(serializer)
        owner = cls.__qualname__.split(".")[0]
        if "." in cls.__qualname__ and owner.endswith("Api"):
            return owner.removesuffix("Api") + name
        return name


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "teaching.api.auth.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Api-Key <key>` — a space's client key (read and predict).",
        }


class UserTokenAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "mola.api.auth.UserTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token <token>` — a user's token (`POST /api/v1/auth/token`).",
        }


def integer_schemas(node: Any) -> Iterator[dict]:
    """Every ``{"type": "integer", …}`` schema inside ``node`` (a schema or part of one)."""
    stack = [node]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if node.get("type") == "integer":
                yield node
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


def bound_integers(result, generator, request, public):
    """drf-spectacular postprocessing hook: every integer in the schema (parameters and
    bodies) that names no bounds gets the 64-bit ones the API enforces (``parsers.py`` for
    bodies, ``BoundedNumbersMiddleware`` for paths and queries), so that a client's or a
    fuzzer's reading of the schema and the server agree on what is valid."""
    from mola.api.parsers import INT_MAX, INT_MIN

    for integer in integer_schemas(result):
        integer.setdefault("minimum", INT_MIN)
        integer.setdefault("maximum", INT_MAX)
    return result
