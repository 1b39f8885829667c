"""Reads about spaces, members and teachings."""

from __future__ import annotations

from django.db.models import QuerySet

from teaching.models import Membership


def memberships_of(*, user) -> QuerySet[Membership]:
    return Membership.objects.filter(user=user).select_related("space").order_by("space__slug")
