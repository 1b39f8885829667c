"""Reads about threads: lists, and one thread with everything its page shows."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, QuerySet

from community.models import Thread, ThreadStatus
from community.positions import EXPERTISE_WEIGHTS, positions_tally
from community.selectors.teachings import ref_key, teachings_by_ref
from consensus.selectors import contradictions_described, teaching_words
from mola.errors import NotFound
from teaching.models import Space


def thread_list(*, space: Space, filters: dict[str, str] | None = None) -> QuerySet[Thread]:
    """Threads of a space, latest activity first; ``status`` filters (comma-separated),
    ``assigned`` filters by the assignee's username."""
    filters = filters or {}
    queryset = (
        Thread.objects.filter(space=space)
        .select_related("opened_by", "assigned_to")
        .annotate(post_count=Count("posts", distinct=True))
        .order_by("-updated_at", "-id")
    )
    if filters.get("status"):
        queryset = queryset.filter(status__in=filters["status"].split(","))
    if filters.get("assigned"):
        queryset = queryset.filter(assigned_to__username=filters["assigned"])
    return queryset


def open_thread_count(*, space: Space, excluding: list[int]) -> int:
    """How many threads of the space are not resolved, leaving out those in ``excluding``."""
    return (
        Thread.objects.filter(space=space)
        .exclude(status=ThreadStatus.RESOLVED)
        .exclude(pk__in=excluding)
        .count()
    )


def thread_get(*, thread_id: int, space: Space | None = None) -> Thread:
    queryset = Thread.objects.select_related("space", "opened_by", "assigned_to")
    if space is not None:
        queryset = queryset.filter(space=space)
    thread = queryset.filter(pk=thread_id).first()
    if thread is None:
        raise NotFound(f"No thread #{thread_id}.")
    return thread


def _contradictions(thread: Thread) -> list[dict[str, Any]]:
    """The thread's disputes, each with its two teachings in words, witness, evidence,
    severity and status (the consensus app stores them with a key to their thread)."""
    rows = thread.contradictions.order_by("-severity", "id")
    return contradictions_described(space=thread.space, rows=rows)


def _resolution(resolution) -> dict[str, Any]:
    appeal = getattr(resolution, "appeal", None)
    return {
        "id": resolution.pk,
        "outcome": resolution.outcome,
        "keep": resolution.keep,
        "retire": resolution.retire,
        "order": resolution.order,
        "note": resolution.note,
        "decided_by": resolution.decided_by.username,
        "teaching_revision": resolution.teaching_revision,
        "contradictions": resolution.contradictions,
        "changes": resolution.changes,
        "created_at": resolution.created_at,
        "appeal": (
            {
                "id": appeal.pk,
                "author": appeal.author.username,
                "reason": appeal.reason,
                "created_at": appeal.created_at,
            }
            if appeal
            else None
        ),
    }


def thread_detail(*, thread: Thread) -> dict[str, Any]:
    """The thread as ``GET /threads/{id}`` shows it."""
    found = teachings_by_ref(space=thread.space, refs=thread.teachings)
    teachings = []
    for ref in thread.teachings:
        key = ref_key(ref)
        teaching = found.get(key)
        teachings.append(
            {
                "type": key[0],
                "id": key[1],
                "author": teaching.author.username if teaching else None,
                "status": teaching.status if teaching else None,
                "summary": teaching_words(teaching) if teaching else "",
            }
        )
    contradictions = _contradictions(thread)
    posts = list(thread.posts.select_related("author").order_by("created_at", "id"))
    usernames = {p.author_id: p.author.username for p in posts}
    resolutions = list(
        thread.resolutions.select_related("decided_by", "appeal__author").order_by(
            "created_at", "id"
        )
    )
    return {
        "id": thread.pk,
        "space": thread.space.slug,
        "title": thread.title,
        "status": thread.status,
        "opened_by": thread.opened_by.username if thread.opened_by else None,
        "assigned_to": thread.assigned_to.username if thread.assigned_to else None,
        "created_at": thread.created_at,
        "updated_at": thread.updated_at,
        "resolved_at": thread.resolved_at,
        "contradictions": contradictions,
        "teachings": teachings,
        "posts": [
            {
                "id": p.pk,
                "author": p.author.username,
                "expertise": p.expertise,
                "body": p.body,
                "supports": p.supports,
                "created_at": p.created_at,
            }
            for p in posts
        ],
        "positions": positions_tally(posts=posts, teachings=thread.teachings, usernames=usernames),
        "position_weights": dict(EXPERTISE_WEIGHTS),
        "open_contradictions": sum(1 for c in contradictions if c["status"] == "open"),
        "resolution": _resolution(resolutions[-1]) if resolutions else None,
        "resolutions": [_resolution(r) for r in resolutions],
    }
