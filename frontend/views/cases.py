"""The case pool page (import a CSV with progress, list with a condition, coverage table) and
the practice page (answer the model's question, see its answer before and after)."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from cases import selectors
from cases.services.coverage import pool_coverage
from cases.services.practice import case_model_answer, practice_answer, practice_queue
from frontend.views.common import page, space_page, teaching_write
from mola.errors import MolaError
from teaching.models import Membership, Space

PER_PAGE = 50
REASONS = {
    "uncertain": "the model is unsure",
    "conflict": "rules of different labels fire here",
    "uncovered": "no rule covers this case",
    "experts_disagree": "experts' examples nearby disagree",
}


@space_page
@require_GET
def case_list(request: HttpRequest, space: Space, membership: Membership) -> HttpResponse:
    where = request.GET.get("where", "").strip()
    problems = []
    try:
        cases = selectors.case_list(space=space, where=where or None)
    except MolaError as exc:
        problems, cases = exc.problems, []
    paged = Paginator(cases, PER_PAGE).get_page(request.GET.get("page"))
    return page(
        request,
        "frontend/cases.html",
        space,
        membership,
        "cases",
        where=where,
        problems=problems,
        cases=paged,
        features=space.schema.feature_names,
        size=selectors.pool_size(space=space),
    )


COVERAGE_PER_PAGE = 50
# How the coverage table may be ordered: the rules to look at first (most conflicts), the
# broadest, or as taught.
COVERAGE_ORDERS = {
    "conflicts": lambda r: (-r["counts"]["conflicts"], -r["counts"]["coverage"], r["rule"]["id"]),
    "coverage": lambda r: (-r["counts"]["coverage"], r["rule"]["id"]),
    "rule": lambda r: r["rule"]["id"],
}


@space_page
@require_GET
def coverage_table(request: HttpRequest, space: Space, membership: Membership) -> HttpResponse:
    """The coverage table, loaded after the page (it may take a second on a big pool), a
    page of rules at a time."""
    coverage = pool_coverage(space=space)
    order = request.GET.get("order", "")
    order = order if order in COVERAGE_ORDERS else "conflicts"
    ordered = sorted(coverage["rules"], key=COVERAGE_ORDERS[order])
    paged = Paginator(ordered, COVERAGE_PER_PAGE).get_page(request.GET.get("page"))
    context = {"coverage": coverage, "paged": paged, "order": order, "orders": COVERAGE_ORDERS}
    return render(request, "frontend/_coverage.html", {"space": space, **context})


def _next_case(request: HttpRequest, space: Space, membership: Membership) -> HttpResponse:
    context = {
        "space": space,
        "membership": membership,
        "labels": space.schema.label_names,
        "features": space.schema.feature_names,
    }
    try:
        queue = practice_queue(space=space, user=request.user, limit=1)
    except MolaError as exc:
        context["problems"] = exc.problems
        queue = []
    context["item"] = queue[0] if queue else None
    context["reason"] = REASONS.get(queue[0]["reason"], "") if queue else ""
    return render(request, "frontend/_practice_case.html", context)


@space_page
@require_GET
def practice(request: HttpRequest, space: Space, membership: Membership) -> HttpResponse:
    return page(request, "frontend/practice.html", space, membership, "practice")


@space_page
@require_GET
def practice_next(request: HttpRequest, space: Space, membership: Membership) -> HttpResponse:
    return _next_case(request, space, membership)


@space_page
@teaching_write
@require_POST
def practice_submit(
    request: HttpRequest, space: Space, membership: Membership, case_id: int
) -> HttpResponse:
    case = selectors.case_get(space=space, case_id=case_id)
    before = case_model_answer(space=space, case=case)
    try:
        example, revision = practice_answer(
            space=space, user=request.user, case_id=case_id, label=request.POST.get("label", "")
        )
    except MolaError as exc:
        context = {"space": space, "membership": membership, "problems": exc.problems}
        return render(request, "frontend/_problems.html", context, status=exc.status)
    context = {
        "space": space,
        "case": case,
        "example": example,
        "revision": revision,
        "before": before,
        "after": None,
    }
    return render(request, "frontend/_practice_result.html", context)


@space_page
@require_GET
def practice_after(
    request: HttpRequest, space: Space, membership: Membership, case_id: int
) -> HttpResponse:
    """The model's answer on the case once a version trained from ``revision`` serves (the
    fragment polls itself until then)."""
    case = selectors.case_get(space=space, case_id=case_id)
    revision = int(request.GET.get("revision", "0") or 0)
    after = case_model_answer(space=space, case=case)
    ready = after is not None and after["teaching_revision"] >= revision
    context = {
        "space": space,
        "case": case,
        "revision": revision,
        "before_label": request.GET.get("before", ""),
        "after": after if ready else None,
        "answered": case.answer.label if case.answer else "",
    }
    return render(request, "frontend/_practice_after.html", context)
