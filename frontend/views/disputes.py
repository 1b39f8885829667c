"""The contradictions triage page: a total, filters (kind in words, severity, teaching,
member, status, has thread), pages, and the same list grouped by teaching. It reads the
consensus app's selectors, the same ones the API reads."""

from __future__ import annotations

from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from community.selectors.teachings import ref_key, teachings_by_ref
from consensus import selectors
from frontend.views.common import page, space_page
from mola.errors import InvalidInput
from teaching.models import Membership, Space

PER_PAGE = 25
FILTERS = ("status", "kind", "min_severity", "teaching", "member", "has_thread")
SEVERITIES = [("", "any"), ("0.25", "≥ 0.25"), ("0.5", "≥ 0.5"), ("0.75", "≥ 0.75"),
              ("0.9", "≥ 0.9")]  # fmt: skip


@space_page(readers=True)
@require_GET
def contradictions(
    request: HttpRequest, space: Space, membership: Membership | None
) -> HttpResponse:
    params = {name: request.GET.get(name, "").strip() for name in FILTERS}
    problems = []
    try:
        filters = selectors.contradiction_filters(space=space, params=params)
    except InvalidInput as exc:  # shown above the form; the list falls back to open ones
        problems = exc.problems
        filters = selectors.ContradictionFilters()
    by_teaching = request.GET.get("view") == "teaching"
    if by_teaching:
        groups = selectors.contradictions_by_teaching(space=space, filters=filters)
        listing = Paginator(groups, PER_PAGE).get_page(request.GET.get("page"))
        total = sum(g.count for g in groups)
        refs = {g.teaching: ref_key(g.teaching.split(":")) for g in listing}
        found = teachings_by_ref(space=space, refs=refs.values())
        rows = [{"group": g, "teaching": _described(found.get(refs[g.teaching]))} for g in listing]
    else:
        queryset = selectors.contradiction_list(space=space, filters=filters)
        listing = Paginator(queryset, PER_PAGE).get_page(request.GET.get("page"))
        total = listing.paginator.count
        rows = selectors.contradictions_described(space=space, rows=list(listing))
    query = urlencode({k: v for k, v in params.items() if v})
    return page(
        request,
        "frontend/contradictions.html",
        space,
        membership,
        "contradictions",
        listing=listing,
        rows=rows,
        total=total,
        by_teaching=by_teaching,
        params=params,
        problems=problems,
        query=query,
        view_query=f"view=teaching&{query}" if by_teaching else query,
        kinds=list(selectors.KIND_WORDS.items()),
        statuses=[*selectors.STATUSES, "all"],
        severities=SEVERITIES,
    )


def _described(teaching) -> dict | None:
    if teaching is None:
        return None
    return {
        "type": teaching.kind,
        "id": teaching.pk,
        "author": teaching.author.username,
        "status": teaching.status,
        "words": selectors.teaching_words(teaching),
    }
