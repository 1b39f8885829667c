"""Reads of the audit log, and the inbox."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone

from community.models import AuditEntry, Notification
from teaching.models import Space


def audit_list(*, space: Space, filters: dict[str, str] | None = None) -> QuerySet[AuditEntry]:
    """The space's audit log, newest first; filter by ``action`` (comma-separated) or
    ``actor`` (username)."""
    filters = filters or {}
    queryset = AuditEntry.objects.filter(space=space).select_related("actor")
    if filters.get("action"):
        queryset = queryset.filter(action__in=filters["action"].split(","))
    if filters.get("actor"):
        queryset = queryset.filter(actor__username=filters["actor"])
    return queryset.order_by("-created_at", "-id")


def notification_list(
    *, user, unread: bool | None = None, space: str | None = None
) -> QuerySet[Notification]:
    """The user's inbox as shown now (a digest's items wait for its hour), the most
    recently updated first."""
    queryset = Notification.objects.filter(
        user=user, visible_at__lte=timezone.now(), count__gt=0
    ).select_related("space", "thread")
    if unread is not None:
        queryset = queryset.filter(read_at__isnull=unread)
    if space:
        queryset = queryset.filter(space__slug=space)
    return queryset.order_by("-updated_at", "-id")


def unread_count(*, user) -> int:
    """Unread items shown now (what the page header counts)."""
    return Notification.objects.filter(
        user=user, read_at__isnull=True, visible_at__lte=timezone.now()
    ).count()
