"""Reads of contradictions."""

from __future__ import annotations

from django.db.models import QuerySet

from consensus.models import Contradiction
from mola.engine.consensus import KINDS
from mola.errors import InvalidInput
from teaching.models import Space

STATUSES = ("open", "resolved", "dismissed")


def contradiction_list(
    *, space: Space, status: str | None, kind: str | None
) -> QuerySet[Contradiction]:
    """Most severe first; filtered by status (default: open) and kind."""
    queryset = Contradiction.objects.filter(space=space)
    status = status or "open"
    if status != "all":
        if status not in STATUSES:
            raise InvalidInput(
                f"status is one of {', '.join(STATUSES)} or all.",
                code="invalid_choice",
                field="status",
            )
        queryset = queryset.filter(status=status)
    if kind:
        if kind not in KINDS:
            raise InvalidInput(
                f"kind is one of {', '.join(KINDS)}.", code="invalid_choice", field="kind"
            )
        queryset = queryset.filter(kind=kind)
    return queryset.order_by("-severity", "id")
