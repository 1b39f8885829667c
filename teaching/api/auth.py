"""API keys: ``Authorization: Api-Key <key>`` makes the caller an ``ApiClient`` of the key's
space (who may read and predict only; see ``mola.api.auth``)."""

from __future__ import annotations

from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from mola.api.auth import ApiClient
from teaching.services.keys import api_key_verified


class ApiKeyAuthentication(BaseAuthentication):
    """``Authorization: Api-Key <key>`` with a key made by ``POST /spaces/{slug}/keys``."""

    keyword = b"api-key"

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword:
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("Send: Authorization: Api-Key <key>.")
        key = api_key_verified(parts[1].decode("latin-1"))
        if key is None or key.has_expired:
            raise exceptions.AuthenticationFailed("Invalid, revoked or expired API key.")
        return ApiClient(key_id=key.id, key_name=key.name, space_id=key.space_id), key

    def authenticate_header(self, request) -> str:
        return "Api-Key"
