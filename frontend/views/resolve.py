"""The resolve form of a thread page: read it into ``thread_resolve``'s arguments, and show
its effect beforehand (``resolution_preview``, the service the API's preview calls).

The form asks one choice per teaching (``choice-rule:12`` = keep, retire or nothing), a rank
per teaching only for precedence (``order-rule:12`` = 1, 2, …), and optionally which of the
thread's open disputes it decides (``contradictions``; none ticked = the default: those
between the teachings it names)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_POST

from community.selectors import threads as thread_selectors
from community.services.resolve_preview import resolution_preview
from frontend.views.common import space_page
from mola.errors import MolaError
from teaching.models import Membership, Space

KINDS = ("concept", "rule", "example")


def _ref(value: str) -> dict[str, Any] | None:
    kind, _, pk = value.partition(":")
    return {"type": kind, "id": int(pk)} if kind in KINDS and pk.isdigit() else None


def resolve_arguments(request: HttpRequest) -> dict[str, Any]:
    """The resolve form → ``thread_resolve``'s keyword arguments (bad entries dropped; the
    service checks the rest and says what is wrong)."""
    outcome = request.POST.get("outcome", "")
    keep, retire, ranked = [], [], []
    for name, value in request.POST.items():
        if name.startswith("choice-"):
            ref = _ref(name.removeprefix("choice-"))
            if ref and value in ("keep", "retire"):
                (keep if value == "keep" else retire).append(ref)
        elif name.startswith("order-") and value.strip().isdigit() and outcome == "precedence":
            ref = _ref(name.removeprefix("order-"))
            if ref:
                ranked.append((int(value), ref))
    chosen = [int(v) for v in request.POST.getlist("contradictions") if v.isdigit()]
    return {
        "outcome": outcome,
        "note": request.POST.get("note", ""),
        "keep": keep,
        "retire": retire,
        "order": [ref for _, ref in sorted(ranked, key=lambda pair: pair[0])],
        "contradictions": chosen or None,
    }


@space_page
@require_POST
def resolve_preview(
    request: HttpRequest, space: Space, membership: Membership, thread_id: int
) -> HttpResponse:
    """The effect of the form as it stands, as a fragment (problems instead, if any)."""
    thread = thread_selectors.thread_get(thread_id=thread_id, space=space)
    context: dict[str, Any] = {"space": space}
    try:
        context["preview"] = resolution_preview(
            thread=thread, user=request.user, **resolve_arguments(request)
        )
    except MolaError as exc:
        if exc.status == 403:
            raise
        context["problems"] = exc.problems
    return render(request, "frontend/_resolve_preview.html", context)
