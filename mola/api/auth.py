"""Who is calling: a user (token or session) or a client with a space's API key."""

from __future__ import annotations

from dataclasses import dataclass

from rest_framework import exceptions, permissions
from rest_framework.authentication import BaseAuthentication, get_authorization_header


@dataclass(frozen=True)
class ApiClient:
    """``request.user`` for a call made with an API key: it can read and predict only."""

    key_id: str
    key_name: str
    space_id: int
    is_authenticated: bool = True
    is_active: bool = True
    is_anonymous: bool = False
    is_staff: bool = False
    id: None = None
    pk: None = None
    username: str = ""


class ApiKeyAuthentication(BaseAuthentication):
    """``Authorization: Api-Key <key>`` with a key made by ``POST /spaces/{slug}/keys``."""

    keyword = b"api-key"

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword:
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("Send: Authorization: Api-Key <key>.")
        from teaching.models import SpaceApiKey

        try:
            key = SpaceApiKey.objects.get_from_key(parts[1].decode("latin-1"))
        except SpaceApiKey.DoesNotExist:
            key = None
        if key is None or key.has_expired:
            raise exceptions.AuthenticationFailed("Invalid, revoked or expired API key.")
        return ApiClient(key_id=key.id, key_name=key.name, space_id=key.space_id), key

    def authenticate_header(self, request) -> str:
        return "Api-Key"


def is_api_client(user) -> bool:
    return isinstance(user, ApiClient)


class IsUser(permissions.BasePermission):
    """A signed-in person; API keys are refused with 403, anonymous calls with 401."""

    message = "API keys can only read the model and predict."
    code = "api_key_not_allowed"

    def has_permission(self, request, view) -> bool:
        if is_api_client(request.user):
            return False
        if not (request.user and request.user.is_authenticated):
            raise exceptions.NotAuthenticated()
        return True


class IsUserOrApiClient(permissions.BasePermission):
    """A person, or a client key (the view checks the key's space)."""

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated)
