"""The community's pages: threads (posts, positions, resolve and appeal dialogs),
contributors and the audit log. The pages call the community app's selectors and services,
the same ones the API calls."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET, require_http_methods

from community.selectors import activity
from community.selectors import contributors as credit
from community.selectors import threads as thread_selectors
from community.services import appeals, posts, resolutions
from frontend.views.common import page, space_page
from frontend.views.resolve import resolve_arguments
from mola.errors import MolaError
from teaching.models import Membership, Space


@space_page(readers=True)
@require_GET
def threads(request: HttpRequest, space: Space, membership: Membership | None) -> HttpResponse:
    shown = request.GET.get("status", "")
    queryset = thread_selectors.thread_list(space=space, filters={"status": shown})
    listing = Paginator(queryset, 50).get_page(request.GET.get("page"))
    return page(
        request,
        "frontend/threads.html",
        space,
        membership,
        "threads",
        threads=listing,
        shown=shown,
    )


def _refs(values: list[str]) -> list[dict[str, Any]]:
    """``["rule:12", ...]`` from a form → teaching refs (malformed entries dropped)."""
    refs = []
    for value in values:
        kind, _, pk = value.partition(":")
        if kind in ("concept", "rule", "example") and pk.isdigit():
            refs.append({"type": kind, "id": int(pk)})
    return refs


def _thread_action(request: HttpRequest, thread) -> None:
    action = request.POST.get("action")
    if action == "post":
        posts.post_create(
            thread=thread,
            user=request.user,
            body=request.POST.get("body", ""),
            supports=_refs(request.POST.getlist("supports")),
        )
        messages.success(request, "Posted.")
    elif action == "resolve":
        resolution, revision = resolutions.thread_resolve(
            thread=thread, user=request.user, **resolve_arguments(request)
        )
        decided = len(resolution.contradictions)
        messages.success(
            request,
            f"Resolved {decided} dispute{'s' if decided != 1 else ''} (teaching revision "
            f"{revision}); the model retrains.",
        )
    elif action == "appeal":
        appeals.thread_appeal(
            thread=thread, user=request.user, reason=request.POST.get("reason", "")
        )
        messages.success(request, "Appealed: another moderator will take a second look.")


def _can_appeal(thread, user) -> bool:
    """Whether the appeal form is offered: the rule is the appeal service's."""
    try:
        appeals.appealable_resolution(thread=thread, user=user)
    except MolaError:
        return False
    return True


@space_page(readers=True)
@require_http_methods(["GET", "POST"])
def thread(
    request: HttpRequest, space: Space, membership: Membership | None, thread_id: int
) -> HttpResponse:
    found = thread_selectors.thread_get(thread_id=thread_id, space=space)
    if request.method == "POST":
        try:
            _thread_action(request, found)
        except MolaError as exc:
            if exc.status == 403:
                raise
            messages.error(request, " ".join(p["message"] for p in exc.problems))
        return redirect("frontend:thread", slug=space.slug, thread_id=found.pk)
    detail = thread_selectors.thread_detail(thread=found)
    return page(
        request,
        "frontend/thread.html",
        space,
        membership,
        "threads",
        thread=detail,
        thread_id=thread_id,
        can_appeal=_can_appeal(found, request.user),
        can_resolve=bool(membership and membership.moderates) and detail["status"] != "resolved",
    )


@space_page(readers=True)
@require_GET
def contributors(request: HttpRequest, space: Space, membership: Membership | None) -> HttpResponse:
    listing = credit.contributor_list(space=space)
    return page(
        request,
        "frontend/contributors.html",
        space,
        membership,
        "contributors",
        contributors=listing["contributors"],
        window_hours=listing["window_hours"],
        predictions=listing["predictions"],
    )


@space_page
@require_GET
def audit(request: HttpRequest, space: Space, membership: Membership) -> HttpResponse:
    queryset = activity.audit_list(space=space, filters={"action": request.GET.get("action", "")})
    entries = Paginator(queryset, 100).get_page(request.GET.get("page"))
    return page(request, "frontend/audit.html", space, membership, "audit", entries=entries)
