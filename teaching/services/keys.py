"""Client API keys of a space."""

from __future__ import annotations

from community.services.audit import audit_record
from teaching.models import Space, SpaceApiKey
from teaching.services.access import check_moderator


def api_key_create(*, space: Space, user, name: str) -> tuple[SpaceApiKey, str]:
    """Create a key for clients of ``space``; the plain key is returned once, never stored."""
    check_moderator(space=space, user=user)
    audit_record(
        space=space, actor=user, action="api_key_create", target={"type": "api_key", "name": name}
    )
    return SpaceApiKey.objects.create_key(space=space, name=name, created_by=user)
