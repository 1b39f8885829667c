"""Who is calling: a user (token or session) or a client with a space's API key
(``teaching.api.auth`` authenticates the key: keys are the teaching app's table)."""

from __future__ import annotations

from dataclasses import dataclass

from knox.auth import TokenAuthentication
from rest_framework import exceptions, permissions


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


class UserTokenAuthentication(TokenAuthentication):
    """``Authorization: Token <token>``: a user's token, stored hashed, with an expiry
    (django-rest-knox). A token that is not text is invalid, not a server error."""

    def authenticate_credentials(self, token: bytes):
        try:
            token.decode("utf-8")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("Invalid token.") from None
        return super().authenticate_credentials(token)


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
