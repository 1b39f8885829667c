"""Members: profiles, the members admin (role, expertise, rollback)."""

from __future__ import annotations

from datetime import datetime

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from consensus.selectors import notable_disputes
from frontend.views.common import page, space_page
from mola.errors import MolaError, NotFound
from teaching import selectors
from teaching.models import Expertise, Membership, Role, Space
from teaching.services import history, spaces


def _errors_to_messages(request: HttpRequest, exc: MolaError) -> None:
    if exc.status == 403:
        raise exc
    messages.error(request, " ".join(p["message"] for p in exc.problems))


@space_page(readers=True)
@require_GET
def member_list(request: HttpRequest, space: Space, membership: Membership | None) -> HttpResponse:
    return page(
        request,
        "frontend/members.html",
        space,
        membership,
        "members",
        members=selectors.member_list(space=space).select_related("expertise_verified_by"),
        roles=Role.values,
        expertise_levels=Expertise.values,
    )


@space_page(readers=True)
@require_GET
def member_profile(
    request: HttpRequest, space: Space, membership: Membership | None, username: str
) -> HttpResponse:
    member = selectors.member_get(space=space, username=username)
    if member is None:
        raise NotFound(f"{username} is not a member of {space.slug}.")
    teachings = selectors.member_teachings(space=space, user=member.user)
    return page(
        request,
        "frontend/member.html",
        space,
        membership,
        "members",
        member=member,
        teachings=teachings,
        disputes=notable_disputes(
            space=space, teachings=[t for items in teachings["items"].values() for t in items]
        ),
        roles=Role.values,
        expertise_levels=Expertise.values,
    )


@space_page
@require_POST
def member_update(
    request: HttpRequest, space: Space, membership: Membership, username: str
) -> HttpResponse:
    role = request.POST.get("role") or None
    expertise = request.POST.get("expertise") or None
    try:
        spaces.member_update(
            space=space, user=request.user, username=username, role=role, expertise=expertise
        )
        messages.success(request, f"{username}'s role and expertise are saved.")
    except MolaError as exc:
        _errors_to_messages(request, exc)
    if request.POST.get("back") == "profile":
        return redirect("frontend:member", slug=space.slug, username=username)
    return redirect("frontend:members", slug=space.slug)


@space_page
@require_POST
def member_rollback(
    request: HttpRequest, space: Space, membership: Membership, username: str
) -> HttpResponse:
    since = None
    if request.POST.get("since"):
        try:
            since = timezone.make_aware(datetime.fromisoformat(request.POST["since"]))
        except ValueError:
            messages.error(request, "The date is not valid.")
            return redirect("frontend:member", slug=space.slug, username=username)
    try:
        touched, revision = history.member_rollback(
            space=space, user=request.user, username=username, since=since
        )
    except MolaError as exc:
        _errors_to_messages(request, exc)
    else:
        if touched:
            messages.success(
                request,
                f"Rolled back {len(touched)} teaching(s) of {username} "
                f"in one revision ({revision}).",
            )
        else:
            messages.info(request, f"{username} has nothing to roll back.")
    return redirect("frontend:member", slug=space.slug, username=username)
