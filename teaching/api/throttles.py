"""Rate limits on teaching writes, per member of a space, stricter for novices.

A coordinated group of new accounts is the classic way to vandalise a taught model; the
review queue keeps novices' teachings out of the model, and this limit keeps them from
flooding it. Rates come from settings (``TEACHING_WRITE_RATE_NOVICE``,
``TEACHING_WRITE_RATE``, e.g. ``30/min``; empty turns a limit off).
"""

from __future__ import annotations

import math

from django.conf import settings
from rest_framework.permissions import SAFE_METHODS
from rest_framework.throttling import SimpleRateThrottle

from mola.api.auth import is_api_client
from mola.errors import RateLimited
from teaching.models import Expertise, Membership


class TeachingWriteThrottle(SimpleRateThrottle):
    """Counts a member's teaching writes (POST/PATCH/DELETE) in one space; 429 with
    ``Retry-After`` past the rate for their expertise (novices have the stricter one)."""

    scope = "teaching_write"

    def __init__(self) -> None:  # the rate depends on who calls: chosen per request
        self.rate = None

    def get_cache_key(self, request, view) -> str | None:
        return getattr(self, "_key", None)

    def allow_request(self, request, view) -> bool:
        user = request.user
        if request.method in SAFE_METHODS or is_api_client(user) or not user.is_authenticated:
            return True  # reads are free; anonymous calls and keys are refused elsewhere
        membership = (
            Membership.objects.filter(space__slug=view.kwargs.get("slug"), user=user)
            .only("pk", "role", "expertise", "joined_at")
            .first()
        )
        if membership is None:
            return True  # the service answers "join the space first"
        novice = membership.expertise == Expertise.NOVICE and not membership.moderates
        rate = settings.TEACHING_WRITE_RATE_NOVICE if novice else settings.TEACHING_WRITE_RATE
        if not rate:
            return True
        self.rate = rate
        self.num_requests, self.duration = self.parse_rate(rate)
        # Keyed by the membership and when it began, so a member who leaves and joins
        # again (or a recreated test database reusing ids) starts afresh.
        self._key = f"throttle:teaching-write:{membership.pk}:{membership.joined_at.timestamp()}"
        if super().allow_request(request, view):
            return True
        wait = max(1, math.ceil(self.wait() or 1))
        raise RateLimited(
            f"Too many teaching writes ({rate} for "
            f"{'novices' if novice else 'members'}); try again in {wait} s.",
            retry_after=wait,
        )
