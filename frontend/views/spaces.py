"""The space list, joining a space, the dashboard and its live model status."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from consensus.preview import rule_coverage
from consensus.selectors import notable_disputes
from evaluation import selectors as evaluation_selectors
from frontend.charts import accuracy_chart, scorecard_chart
from frontend.views.common import error_page, page, space_page
from mola.errors import MolaError
from teaching import selectors
from teaching.models import Membership, Space
from teaching.services.access import readable_spaces
from teaching.services.spaces import member_join


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return render(request, "frontend/landing.html")
    mine = {m.space_id: m for m in selectors.memberships_of(user=request.user)}
    readable = readable_spaces(spaces=selectors.space_list(), user=request.user)
    spaces = [(space, mine.get(space.pk)) for space in readable]
    return render(request, "frontend/space_list.html", {"spaces": spaces})


@require_POST
def join(request: HttpRequest, slug: str) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(f"/spaces/{slug}/")
    try:
        space = selectors.space_get(slug=slug)
        member_join(space=space, user=request.user)
    except MolaError as exc:
        if getattr(exc, "problems", [{}])[0].get("code") != "already_member":
            return error_page(request, exc)
    return redirect("frontend:dashboard", slug=slug)


def rule_metrics(metrics: dict[str, Any], rule_id: int) -> dict[str, Any]:
    """The serving model's figures for one rule, whichever shape the engine reports them in
    (``{"rules": {"<id>": {...}}}`` or ``{"rules": [{"id": n, ...}]}``); {} when absent."""
    rules = (metrics or {}).get("rules")
    if isinstance(rules, dict):
        found = rules.get(str(rule_id), rules.get(rule_id))
        return found if isinstance(found, dict) else {}
    if isinstance(rules, list):
        return next((r for r in rules if isinstance(r, dict) and r.get("id") == rule_id), {})
    return {}


def rule_rows(space: Space, rules: list, metrics: dict[str, Any]) -> list[dict[str, Any]]:
    """``rules`` with the teaching examples each covers (counted here, so proposed rules get
    figures too; ``consensus.preview.rule_coverage``) and the serving model's reliability."""
    coverage = rule_coverage(space=space, rules=rules)
    return [
        {
            "rule": rule,
            "covered": coverage.get(rule.pk, (0, 0))[0],
            "agreeing": coverage.get(rule.pk, (0, 0))[1],
            "reliability": rule_metrics(metrics, rule.pk).get("reliability"),
        }
        for rule in rules
    ]


DASHBOARD_RULES = 10  # the rest are on the rules page


def least_trusted_rules(space: Space, metrics: dict[str, Any]) -> tuple[list, int]:
    """The ``DASHBOARD_RULES`` live rules the serving model trusts least (those it has no
    figure for first: new since the version), and how many live rules there are."""
    rules = list(selectors.live_rules(space=space))

    def trust(rule) -> tuple[float, int]:
        reliability = rule_metrics(metrics, rule.pk).get("reliability")
        return (-1.0 if reliability is None else reliability, -rule.pk)

    return sorted(rules, key=trust)[:DASHBOARD_RULES], len(rules)


@space_page
def dashboard(request: HttpRequest, space: Space, membership: Membership) -> HttpResponse:
    status = selectors.model_status(space=space)
    versions = list(selectors.version_list(space=space)[:60])
    shown, rules_total = least_trusted_rules(space, status["metrics"])
    rules = rule_rows(space, shown, status["metrics"])
    return page(
        request,
        "frontend/dashboard.html",
        space,
        membership,
        "dashboard",
        model=status,
        chart=accuracy_chart(versions),
        scorecard=scorecard_chart(versions, _teaching_links(space, versions)),
        my_change=evaluation_selectors.latest_change_of(space=space, user=request.user),
        versions=versions[:8],
        rules=rules,
        rules_total=rules_total,
        disputes=notable_disputes(space=space, teachings=[r["rule"] for r in rules]),
        activity=selectors.recent_revisions(space=space),
        counts=selectors.teaching_counts(space=space),
    )


def _teaching_links(space: Space, versions: list) -> dict[int, str]:
    made = evaluation_selectors.version_teachings(space=space, versions=versions)
    return {
        version: reverse("frontend:teaching", args=[space.slug, kind, pk])
        for version, (kind, pk) in made.items()
    }


@space_page
def model_status(request: HttpRequest, space: Space, membership: Membership) -> HttpResponse:
    """The status badge, polled by htmx. When the serving version differs from the one the
    page last saw (``?seen=``), the response triggers ``model-updated`` on the page, which
    the playground listens to so its prediction follows the new model."""
    status = selectors.model_status(space=space)
    response = render(request, "frontend/_model_status.html", {"space": space, "model": status})
    seen = request.GET.get("seen")
    if seen is not None and seen != str(status["version"] or ""):
        response["HX-Trigger"] = "model-updated"
    return response
