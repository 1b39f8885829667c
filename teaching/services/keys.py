"""Client API keys of a space: created by moderators, shown once, revocable for good."""

from __future__ import annotations

from django.db import transaction

from mola.errors import NotFound
from teaching.models import Space, SpaceApiKey
from teaching.services.access import check_moderator
from teaching.signals import decision_record


def api_key_create(*, space: Space, user, name: str) -> tuple[SpaceApiKey, str]:
    """Create a key for clients of ``space``; the plain key is returned once, never stored."""
    check_moderator(space=space, user=user)
    decision_record(
        space=space, actor=user, action="api_key_create", target={"type": "api_key", "name": name}
    )
    return SpaceApiKey.objects.create_key(space=space, name=name, created_by=user)


def api_key_revoke(*, space: Space, user, prefix: str) -> SpaceApiKey:
    """Revoke the space's key starting with ``prefix``: every later call with it gets 401.

    Revoking is final (the library refuses to un-revoke) and idempotent: revoking a revoked
    key changes nothing and records nothing. A key of another space is reported as missing,
    so a moderator of one space cannot probe another's keys.
    """
    check_moderator(space=space, user=user)
    with transaction.atomic():
        key = SpaceApiKey.objects.select_for_update().filter(space=space, prefix=prefix).first()
        if key is None:
            raise NotFound(f"No API key starting with {prefix!r} in {space.slug}.", field="prefix")
        if not key.revoked:
            key.revoked = True
            key.save(update_fields=["revoked"])
            decision_record(
                space=space,
                actor=user,
                action="api_key_revoke",
                target={"type": "api_key", "name": key.name, "prefix": key.prefix},
            )
    return key
