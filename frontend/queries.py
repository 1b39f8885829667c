"""Reads the pages need that ``teaching.selectors`` does not offer yet.

Each is a candidate for ``teaching.selectors`` (listed in the frontend's hand-over notes);
the pages call them through this module only, so moving them is a one-line change here.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from teaching.models import (
    LIVE_STATUSES,
    TEACHING_MODELS,
    Membership,
    Rule,
    Space,
    Status,
    TeachingRevision,
)


def recent_revisions(*, space: Space, limit: int = 15) -> QuerySet[TeachingRevision]:
    return (
        TeachingRevision.objects.filter(space=space)
        .select_related("author")
        .order_by("-revision", "-id")[:limit]
    )


def live_rules(*, space: Space) -> QuerySet[Rule]:
    return (
        Rule.objects.filter(space=space, status__in=LIVE_STATUSES)
        .select_related("author")
        .order_by("label", "id")
    )


def member_get(*, space: Space, username: str) -> Membership | None:
    return (
        Membership.objects.filter(space=space, user__username=username)
        .select_related("user", "expertise_verified_by")
        .first()
    )


def member_teachings(*, space: Space, user, limit: int = 25) -> dict[str, Any]:
    """A member's teachings by kind (newest first) and counts by status."""
    result: dict[str, Any] = {"counts": {}, "items": {}}
    for kind, model in TEACHING_MODELS.items():
        mine = model.objects.filter(space=space, author=user)
        result["counts"][kind] = {
            status: mine.filter(status=status).count() for status in Status.values
        }
        result["items"][kind] = list(mine.order_by("-id")[:limit])
    return result


def teaching_counts(*, space: Space) -> dict[str, int]:
    return {
        kind: model.objects.filter(space=space, status__in=LIVE_STATUSES).count()
        for kind, model in TEACHING_MODELS.items()
    }


def example_authors(*, space: Space) -> list[str]:
    model = TEACHING_MODELS["example"]
    return sorted(set(model.objects.filter(space=space).values_list("author__username", flat=True)))
