"""The audit log: every moderator decision about people or teachings, with who and why."""

from __future__ import annotations

from typing import Any

from community.models import AuditEntry
from teaching.models import Space


def audit_record(
    *,
    space: Space,
    actor,
    action: str,
    target: dict[str, Any] | None = None,
    note: str = "",
    data: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry to the space's audit log.

    Call it inside the transaction of the decision it records, so the entry exists exactly
    when the decision does. ``actor`` is the person who decided (None for the system).
    """
    return AuditEntry.objects.create(
        space=space,
        actor=actor if getattr(actor, "pk", None) else None,
        action=action,
        target=target or {},
        note=note or "",
        data=data or {},
    )
