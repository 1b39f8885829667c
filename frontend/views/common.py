"""What every page of a space shares: who may see it, and how domain errors are shown."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from types import SimpleNamespace
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from mola.errors import MolaError, NotAllowed, NotFound, RateLimited
from teaching import selectors
from teaching.api.throttles import TeachingWriteThrottle
from teaching.models import Membership, Space
from teaching.services.access import check_reader, membership_of

SpaceView = Callable[..., HttpResponse]


def is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def error_page(
    request: HttpRequest,
    error: MolaError,
    *,
    space: Space | None = None,
    membership: Membership | None = None,
) -> HttpResponse:
    """A 403/404/409 page (or fragment, for htmx) that says what went wrong and why."""
    template = "frontend/_problems.html" if is_htmx(request) else "frontend/error.html"
    context = {
        "space": space,
        "membership": membership,
        "problems": error.problems,
        "status": error.status,
    }
    return render(request, template, context, status=error.status)


def space_page(view: SpaceView | None = None, *, readers: bool = False):
    """Load the space and the caller's membership, or send them where they can go.

    Anonymous visitors go to the login page; signed-in outsiders get a 403 page that
    offers to join. ``readers=True`` (``@space_page(readers=True)``): a page of what anyone
    may read in a ``public`` space (its teachings, disputes, threads, contributors, members;
    ``check_reader``), shown to signed-in outsiders too — GET only, with ``membership`` None;
    what they would write the services refuse, as the API does. Domain errors raised by the
    view (not allowed, not found) become pages.
    """

    def decorate(view: SpaceView) -> SpaceView:
        @wraps(view)
        def wrapper(request: HttpRequest, slug: str, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                if is_htmx(request):  # a poll or a check after the session ended: leave
                    response = HttpResponse(status=204)
                    current = request.headers.get("HX-Current-URL", "/")
                    response["HX-Redirect"] = redirect_to_login(current)["Location"]
                    return response
                return redirect_to_login(request.get_full_path())
            try:
                space = selectors.space_get(slug=slug)
            except NotFound as exc:
                return error_page(request, exc)
            membership = membership_of(space=space, user=request.user)
            if membership is None:
                try:
                    check_reader(space=space, user=request.user)
                    shown = True
                except NotAllowed:
                    shown = False  # of a members-only space, nothing but its name
                if not (shown and readers and request.method == "GET"):
                    context = {"space": space, "shown": shown}
                    return render(request, "frontend/space_join.html", context, status=403)
            try:
                return view(request, space, membership, *args, **kwargs)
            except (NotAllowed, NotFound) as exc:
                return error_page(request, exc, space=space, membership=membership)

        return wrapper

    return decorate(view) if view is not None else decorate


def teaching_write(view: SpaceView) -> SpaceView:
    """A page that writes teachings (inside ``space_page``): its POSTs count against the
    member's teaching-write rate like the API's, on the same counter (429 past it)."""

    @wraps(view)
    def wrapper(request: HttpRequest, space: Space, membership: Membership, *args, **kwargs):
        if request.method == "POST":
            throttle = TeachingWriteThrottle()
            try:
                throttle.allow_request(request, SimpleNamespace(kwargs={"slug": space.slug}))
            except RateLimited as exc:
                response = error_page(request, exc, space=space, membership=membership)
                response["Retry-After"] = str(exc.retry_after)
                return response
        return view(request, space, membership, *args, **kwargs)

    return wrapper


def require(allowed: bool, message: str, code: str = "permission_denied") -> None:
    if not allowed:
        raise NotAllowed(message, code=code)


def page(
    request: HttpRequest,
    template: str,
    space: Space,
    membership: Membership | None,
    tab: str,
    status: int = 200,
    **context: Any,
) -> HttpResponse:
    """Render a page of a space with what the layout needs."""
    # A reader: signed in, not a member, on a page of a public space (``space_page``).
    base = {"space": space, "membership": membership, "reader": membership is None, "tab": tab}
    return render(request, template, {**base, **context}, status=status)
