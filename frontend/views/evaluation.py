"""The evaluation page: propose a case, label the ones you have not answered, see what the
community agreed on, how far members agree, and what changed since your last visit."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_http_methods, require_POST

from evaluation import selectors
from evaluation.services.cases import case_get, case_label, case_propose
from evaluation.services.visits import since_last_visit
from frontend.forms import default_row, feature_fields, parse_row, problems_by_field, row_values
from frontend.views.common import error_page, page, space_page
from mola.errors import InvalidInput, MolaError
from teaching.models import Membership, Space

PREFIX = "f-"
LISTED = 100  # cases shown per list


def _render(request, space: Space, membership: Membership, *, fields, problems=None, status=200):
    cases = list(selectors.cases_list(space=space, user=request.user).order_by("-id")[:LISTED])
    items = selectors.case_items(cases=cases, user=request.user)
    return page(
        request,
        "frontend/evaluation.html",
        space,
        membership,
        "evaluation",
        status=status,
        fields=fields,
        problems=problems or {},
        labels=space.schema.label_names,
        to_label=[i for i in items if not i["answered"] and not i["settled"]],
        answered=[i for i in items if i["answered"] or i["settled"]],
        agreement=selectors.agreement(space=space, user=request.user),
        since=since_last_visit(space=space, user=request.user),
    )


@space_page
@require_http_methods(["GET", "POST"])
def evaluation(request: HttpRequest, space: Space, membership: Membership) -> HttpResponse:
    """GET: the page. POST: propose a case (the API's validation; errors shown by field)."""
    if request.method == "GET":
        fields = feature_fields(space.schema, prefix=PREFIX, values=default_row(space.schema))
        return _render(request, space, membership, fields=fields)
    row = parse_row(space.schema, request.POST, prefix=PREFIX)
    try:
        case = case_propose(
            space=space, user=request.user, features=row, label=request.POST.get("label")
        )
    except InvalidInput as exc:
        problems = problems_by_field(exc.problems, prefix="features")
        fields = feature_fields(
            space.schema,
            prefix=PREFIX,
            values=row_values(space.schema, request.POST, prefix=PREFIX),
            problems=problems,
        )
        return _render(request, space, membership, fields=fields, problems=problems, status=400)
    messages.success(request, f"Case #{case.pk} proposed; others label it without seeing yours.")
    return redirect("frontend:evaluation", slug=space.slug)


@space_page
@require_POST
def evaluation_label(
    request: HttpRequest, space: Space, membership: Membership, case_id: int
) -> HttpResponse:
    try:
        case = case_get(case_id=case_id)
        if case.space_id != space.pk:
            return redirect("frontend:evaluation", slug=space.slug)
        case, _ = case_label(case=case, user=request.user, label=request.POST.get("label"))
    except MolaError as exc:
        return error_page(request, exc, space=space, membership=membership)
    messages.success(request, f"Case #{case.pk}: {case.status}.")
    return redirect("frontend:evaluation", slug=space.slug)
