"""Contradictions another app finds (not the consensus core): kept in the same table, listed,
threaded and decided like every other, but never closed by a consensus check, which does
not look for them.

``evaluation_disagreement``: members label an evaluation case and no label has enough of
the weight (the evaluation app). Such a row names no teaching; its witness is the case.
"""

from __future__ import annotations

from typing import Any

from django.db.models import F
from django.utils import timezone

from consensus.models import ConsensusState, Contradiction, ContradictionStatus
from teaching.models import Space

EVALUATION_DISAGREEMENT = "evaluation_disagreement"
OUTSIDE_KINDS = (EVALUATION_DISAGREEMENT,)


def contradiction_open_outside(
    *,
    space: Space,
    key: str,
    kind: str,
    witness: dict[str, Any],
    region: str,
    evidence: dict[str, Any],
    severity: float,
    summary: str,
) -> Contradiction:
    """Open (or update and open again) the space's contradiction ``key`` of an outside
    ``kind``. Call inside the caller's transaction."""
    if kind not in OUTSIDE_KINDS:
        raise ValueError(f"{kind} is found by the consensus core, not outside it")
    row, _ = Contradiction.objects.get_or_create(
        space=space,
        key=key,
        defaults={"kind": kind, "teachings": [], "status": ContradictionStatus.OPEN},
    )
    row.witness, row.region, row.evidence = witness, region, evidence
    row.severity, row.summary = round(float(severity), 4), summary
    if row.status != ContradictionStatus.OPEN:
        row.status, row.closed_at, row.close_note = ContradictionStatus.OPEN, None, ""
    row.save()
    _moved(space)
    return row


def contradiction_close_outside(*, space: Space, key: str, note: str) -> bool:
    """Close the open outside contradiction ``key`` by itself (what it was about settled
    without a decision). Returns whether one was open."""
    closed = Contradiction.objects.filter(
        space=space, key=key, kind__in=OUTSIDE_KINDS, status=ContradictionStatus.OPEN
    ).update(status=ContradictionStatus.RESOLVED, closed_at=timezone.now(), close_note=note)
    if closed:
        _moved(space)
    return bool(closed)


def _moved(space: Space) -> None:
    ConsensusState.objects.filter(space=space).update(generation=F("generation") + 1)
