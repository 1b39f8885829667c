"""The review queue page: filters, order, pages, each proposal's values and the
contradictions it would bring in; endorse / reject one, or many with one reason."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET, require_POST

from community.selectors import review as review_selectors
from community.services import review as review_services
from frontend.views.common import page, space_page
from mola.errors import InvalidInput, MolaError
from teaching.models import TEACHING_MODELS, Membership, Space

PER_PAGE = 25
FILTERS = ("order", "kind", "author", "label")


@space_page
@require_GET
def review_queue(request: HttpRequest, space: Space, membership: Membership) -> HttpResponse:
    review_services.review_check(space=space, user=request.user)
    params = {k: request.GET.get(k, "") for k in FILTERS}
    problems = []
    try:
        filters = review_selectors.review_filters(space=space, params=params)
    except InvalidInput as exc:
        problems = exc.problems
        filters = review_selectors.ReviewFilters()
    queue = review_selectors.review_queue(space=space, filters=filters)
    listing = Paginator(queue, PER_PAGE).get_page(request.GET.get("page"))
    review_selectors.review_describe(space=space, items=list(listing))
    return page(
        request,
        "frontend/review.html",
        space,
        membership,
        "review",
        items=listing,
        params=params,
        problems=problems,
        query=urlencode({k: v for k, v in params.items() if v}),
        kinds=list(TEACHING_MODELS),
        labels=[label["name"] for label in space.labels],
        features=[f["name"] for f in space.features],
    )


def _back(request: HttpRequest, space: Space) -> HttpResponse:
    query = request.POST.get("query", "")
    return redirect(f"/spaces/{space.slug}/review/" + (f"?{query}" if query else ""))


@space_page
@require_POST
def review_decide(
    request: HttpRequest, space: Space, membership: Membership, kind: str, teaching_id: int
) -> HttpResponse:
    """One item's Endorse / Reject buttons."""
    return _decide(request, space, [{"type": kind, "id": teaching_id}], reason_required=False)


@space_page
@require_POST
def review_bulk(request: HttpRequest, space: Space, membership: Membership) -> HttpResponse:
    """The checked items, with one decision and reason."""
    items = []
    for value in request.POST.getlist("items"):
        kind, _, pk = value.partition(":")
        if kind in TEACHING_MODELS and pk.isdigit():
            items.append({"type": kind, "id": int(pk)})
    return _decide(request, space, items)


def _decide(
    request: HttpRequest, space: Space, items: list[dict], reason_required: bool = True
) -> HttpResponse:
    try:
        results = review_services.review_bulk(
            space=space,
            user=request.user,
            decision=request.POST.get("decision", ""),
            items=items,
            note=request.POST.get("note", ""),
            reason_required=reason_required,
        )
    except MolaError as exc:
        if exc.status == 403:
            raise
        messages.error(request, " ".join(p["message"] for p in exc.problems))
        return _back(request, space)
    done = [r for r in results if "error" not in r]
    if done:
        said = ", ".join(f"{r['type']} #{r['id']}" for r in done[:10])
        more = f" and {len(done) - 10} more" if len(done) > 10 else ""
        messages.success(request, f"{done[0]['status'].capitalize()}: {said}{more}.")
    for failed in (r for r in results if "error" in r):
        messages.error(request, f"{failed['type']} #{failed['id']}: {failed['error']['message']}")
    return _back(request, space)
