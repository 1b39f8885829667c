"""OpenAPI schema tweaks for our API layout (one view per operation, nested serializers)."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema


class MolaAutoSchema(AutoSchema):
    """Names the nested ``InputSerializer``/``OutputSerializer`` after their view, so the
    components of different views don't collide (``UserCreateInput``, ``MeOutput``…)."""

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
