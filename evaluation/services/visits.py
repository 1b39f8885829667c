""" "Since your last visit": the versions published, the evaluation cases whose verdict
changed and the threads that concern a member, since they last looked."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from community.selectors.threads import thread_list
from evaluation.models import EvaluationCase, Visit
from teaching.models import ModelVersion, Space
from teaching.services.access import check_member

FIRST_VISIT = timedelta(days=7)  # a member who never looked sees the last week
LISTED = 50


def since_last_visit(*, space: Space, user, mark: bool = True) -> dict[str, Any]:
    """What changed in ``space`` since ``user`` last looked; with ``mark``, now is their
    last visit."""
    membership = check_member(space=space, user=user)
    now = timezone.now()
    visit = Visit.objects.filter(space=space, user=user).first()
    since = visit.seen_at if visit else max(membership.joined_at, now - FIRST_VISIT)
    versions = (
        ModelVersion.objects.filter(space=space, trained_at__gt=since)
        .exclude(status__in=["training", "failed"])
        .order_by("-version")
        .values_list("version", "status", "teaching_revision", "held_because")[:LISTED]
    )
    cases = (
        EvaluationCase.objects.filter(space=space, updated_at__gt=since)
        .order_by("-updated_at")
        .values_list("pk", "status", "label")[:LISTED]
    )
    threads = thread_list(space=space).filter(participants=user, updated_at__gt=since)[:LISTED]
    if mark:
        Visit.objects.update_or_create(space=space, user=user, defaults={"seen_at": now})
    return {
        "since": since,
        "versions": [
            {"version": v, "status": s, "teaching_revision": r, "held_because": h or None}
            for v, s, r, h in versions
        ],
        "cases": [{"id": pk, "status": s, "label": label or None} for pk, s, label in cases],
        "threads": [{"id": t.pk, "title": t.title, "status": t.status} for t in threads],
    }
