"""Places kept for the consensus and community apps: contradictions, threads, contributors,
the audit log and notifications. Each renders its page with an empty list and says which
app brings the feature; wiring one means filling its context from that app's selectors
(the templates already loop over the names given here)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from frontend.views.common import page, space_page
from teaching.models import Membership, Space


@space_page
@require_GET
def contradictions(request: HttpRequest, space: Space, membership: Membership) -> HttpResponse:
    # Wire: consensus selectors → contradictions=[{id, kind, teachings, witness, region,
    # evidence, severity, thread, status}], status filter from ?status=.
    return page(
        request,
        "frontend/contradictions.html",
        space,
        membership,
        "contradictions",
        contradictions=[],
        shown=request.GET.get("status", "open"),
        pending=True,
    )


@space_page
@require_GET
def threads(request: HttpRequest, space: Space, membership: Membership) -> HttpResponse:
    # Wire: community selectors → threads=[{id, title, status, posts count, updated}].
    return page(
        request, "frontend/threads.html", space, membership, "threads", threads=[], pending=True
    )


@space_page
@require_GET
def thread(
    request: HttpRequest, space: Space, membership: Membership, thread_id: int
) -> HttpResponse:
    # Wire: thread, its contradictions, posts, positions, resolution; the post / resolve /
    # appeal forms post to community services (see thread.html).
    return page(
        request,
        "frontend/thread.html",
        space,
        membership,
        "threads",
        thread=None,
        thread_id=thread_id,
        pending=True,
    )


@space_page
@require_GET
def contributors(request: HttpRequest, space: Space, membership: Membership) -> HttpResponse:
    # Wire: contributors=[{username, teachings, accepted, share, reputation}].
    return page(
        request,
        "frontend/contributors.html",
        space,
        membership,
        "contributors",
        contributors=[],
        pending=True,
    )


@space_page
@require_GET
def audit(request: HttpRequest, space: Space, membership: Membership) -> HttpResponse:
    # Wire: audit entries (resolutions, rollbacks, role changes, appeals) with who and why.
    return page(
        request, "frontend/audit.html", space, membership, "audit", entries=[], pending=True
    )


@login_required
@require_GET
def notifications(request: HttpRequest) -> HttpResponse:
    # Wire: the user's notifications across spaces, newest first, with read state.
    return render(request, "frontend/notifications.html", {"notifications": [], "pending": True})
