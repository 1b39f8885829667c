"""After a teaching is saved: how many contradictions it opened, once the consensus check
has seen it. The teach page's message and the teaching page load this fragment; until the
check has caught up with the teaching's revision it polls itself every two seconds."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from consensus.models import ConsensusState
from consensus.selectors import ContradictionFilters, contradiction_list, contradictions_described
from frontend.views.common import space_page
from teaching.models import Membership, Space, TeachingRevision


def _saved_at(space: Space, kind: str, teaching_id: int) -> int:
    """The space's teaching revision of the teaching's last change."""
    return (
        TeachingRevision.objects.filter(space=space, kind=kind, teaching_id=teaching_id)
        .order_by("-revision")
        .values_list("revision", flat=True)
        .first()
        or 0
    )


@space_page(readers=True)
@require_GET
def teaching_disputes(
    request: HttpRequest, space: Space, membership: Membership | None, kind: str, teaching_id: int
) -> HttpResponse:
    wanted = request.GET.get("rev", "")
    revision = int(wanted) if wanted.isdigit() else _saved_at(space, kind, teaching_id)
    checked = (
        ConsensusState.objects.filter(space=space)
        .values_list("checked_revision", flat=True)
        .first()
        or 0
    )
    context = {"space": space, "kind": kind, "teaching_id": teaching_id, "revision": revision}
    if checked < revision:
        return render(request, "frontend/_opened.html", {**context, "checking": True})
    ref = f"{kind}:{teaching_id}"
    rows = contradiction_list(space=space, filters=ContradictionFilters(teaching=ref))
    top = rows.first()
    most_severe = None
    if top is not None:
        described = contradictions_described(space=space, rows=[top])[0]
        other = [t for t in described["teachings"] if f"{t['type']}:{t['id']}" != ref]
        most_severe = {**described, "other": other[0] if other else None}
    return render(
        request,
        "frontend/_opened.html",
        {**context, "count": rows.count(), "most_severe": most_severe, "ref": ref},
    )
