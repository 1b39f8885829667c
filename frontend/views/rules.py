"""Every rule of the space, a page at a time, with the examples each covers and how much the
serving model trusts it (the dashboard shows only the least trusted few)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from consensus.selectors import notable_disputes
from frontend.views.common import page, space_page
from frontend.views.spaces import rule_rows
from teaching import selectors
from teaching.models import Membership, Space, Status

PER_PAGE = 50
FILTERS = ("label", "author", "status", "disputed")


@space_page(readers=True)
@require_GET
def rule_list(request: HttpRequest, space: Space, membership: Membership | None) -> HttpResponse:
    filters = {name: request.GET.get(name, "") for name in FILTERS}
    queryset = selectors.teaching_list(space=space, kind="rule", filters=filters)
    paged = Paginator(queryset, PER_PAGE).get_page(request.GET.get("page"))
    rules = list(paged)
    # Coverage of this page's rules only: counting all of them is what made the old
    # dashboard slow at 500 rules.
    rows = rule_rows(space, rules, selectors.model_status(space=space)["metrics"])
    return page(
        request,
        "frontend/rules.html",
        space,
        membership,
        "rules",
        rules=rows,
        paged=paged,
        filters=filters,
        query=urlencode({k: v for k, v in filters.items() if v}),
        disputes=notable_disputes(space=space, teachings=rules),
        authors=selectors.teaching_authors(space=space, kind="rule"),
        statuses=Status.values,
        label_names=space.schema.label_names,
    )
