"""Moderators' decisions on contradictions, for the community app's resolutions and appeals:
a resolution closes exactly the contradictions it decided, an appeal reopens exactly those.

Each call runs inside the caller's transaction (the space locked) and bumps the space's
consensus generation, so a check planned before it plans again rather than overwrite it.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import F
from django.utils import timezone

from consensus.columns import ref_text
from consensus.models import ConsensusState, Contradiction, ContradictionStatus
from consensus.signals import disputes_decided
from teaching.models import TEACHING_MODELS, Space
from teaching.services.disputes import teachings_flag_disputed

Ref = tuple[str, int]
_CHUNK = 500  # ids per ``IN`` list


@dataclass(frozen=True)
class Dispute:
    """What a decision needs to know of one stored contradiction."""

    id: int
    kind: str
    teachings: tuple[Ref, ...]
    status: str
    severity: float
    thread_id: int | None

    @property
    def open(self) -> bool:
        return self.status == ContradictionStatus.OPEN


def _disputes(queryset) -> list[Dispute]:
    rows = queryset.order_by("-severity", "id").values_list(
        "pk", "kind", "teachings", "status", "severity", "thread_id"
    )
    return [
        Dispute(pk, kind, tuple((r["type"], int(r["id"])) for r in refs), status, sev, thread)
        for pk, kind, refs, status, sev, thread in rows
    ]


def thread_disputes(*, thread_id: int) -> list[Dispute]:
    """Every contradiction of the thread, most severe first."""
    return _disputes(Contradiction.objects.filter(thread_id=thread_id))


def disputes_get(*, space: Space, ids: list[int]) -> list[Dispute]:
    """The space's contradictions among ``ids`` (others left out), most severe first."""
    found: list[Dispute] = []
    ordered = sorted(set(ids))
    for start in range(0, len(ordered), _CHUNK):
        found += _disputes(
            Contradiction.objects.filter(space=space, pk__in=ordered[start : start + _CHUNK])
        )
    return sorted(found, key=lambda d: (-d.severity, d.id))


def thread_open_count(*, thread_id: int) -> int:
    return Contradiction.objects.filter(
        thread_id=thread_id, status=ContradictionStatus.OPEN
    ).count()


def contradictions_decide(*, space: Space, ids: list[int], status: str, note: str) -> list[int]:
    """Close the open contradictions among ``ids`` with ``status`` (resolved or dismissed)
    and the moderator's note; returns the ids closed. Each remembers its teachings'
    revisions, so it stays closed until one of them changes."""
    rows = _open_rows(space, ids, open_=True)
    revisions = _revisions({ref for row in rows for ref in row.refs})
    now = timezone.now()
    for row in rows:
        row.status, row.closed_at, row.close_note = status, now, note
        row.closed_revisions = {f"{k}:{pk}": revisions.get((k, pk), 0) for k, pk in row.refs}
        row.appealed = False
    Contradiction.objects.bulk_update(
        rows,
        ["status", "closed_at", "close_note", "closed_revisions", "appealed"],
        batch_size=_CHUNK,
    )
    _changed(space, rows)
    if rows:
        disputes_decided.send(
            sender=Contradiction, space=space, ids=[row.pk for row in rows], status=status
        )
    return [row.pk for row in rows]


def contradictions_reopen(*, space: Space, ids: list[int], note: str) -> list[int]:
    """Open the closed contradictions among ``ids`` again, for an appeal; returns the ids
    reopened. A check leaves them open while their retired teaching stays retired."""
    rows = _open_rows(space, ids, open_=False)
    for row in rows:
        row.status, row.closed_at, row.close_note = ContradictionStatus.OPEN, None, note
        row.closed_revisions, row.appealed = {}, True
    Contradiction.objects.bulk_update(
        rows,
        ["status", "closed_at", "close_note", "closed_revisions", "appealed"],
        batch_size=_CHUNK,
    )
    _changed(space, rows)
    return [row.pk for row in rows]


def _open_rows(space: Space, ids: list[int], *, open_: bool) -> list[Contradiction]:
    """The rows among ``ids`` that are open (``open_``) or closed, with their refs."""
    rows: list[Contradiction] = []
    ordered = sorted(set(ids))
    for start in range(0, len(ordered), _CHUNK):
        chunk = Contradiction.objects.filter(space=space, pk__in=ordered[start : start + _CHUNK])
        if open_:
            chunk = chunk.filter(status=ContradictionStatus.OPEN)
        else:
            chunk = chunk.exclude(status=ContradictionStatus.OPEN)
        rows += chunk.only("pk", "teachings", "expected", "status")
    for row in rows:
        row.refs = [(r["type"], int(r["id"])) for r in row.teachings]
    return rows


def _changed(space: Space, rows: list[Contradiction]) -> None:
    """After a decision: a check planned before it plans again, and the ``disputed`` flag of
    the rows' teachings follows whether they are still in an open dispute."""
    if not rows:
        return
    ConsensusState.objects.filter(space=space).update(generation=F("generation") + 1)
    refs = {ref for row in rows if not row.expected for ref in row.refs}
    still = _in_open_dispute(space, refs)
    teachings_flag_disputed(space=space, disputed=still, undisputed=refs - still)


def _in_open_dispute(space: Space, refs: set[Ref]) -> set[Ref]:
    """Those of ``refs`` that are a teaching of an open, not expected, contradiction."""
    texts = sorted(ref_text({"type": k, "id": pk}) for k, pk in refs)
    found: set[str] = set()
    open_disputes = Contradiction.objects.filter(
        space=space, status=ContradictionStatus.OPEN, expected=False
    )
    for column in ("first", "second"):
        for start in range(0, len(texts), _CHUNK):
            chunk = texts[start : start + _CHUNK]
            found |= set(
                open_disputes.filter(**{f"{column}__in": chunk})
                .order_by()
                .values_list(column, flat=True)
                .distinct()
            )
    return {ref for ref in refs if ref_text({"type": ref[0], "id": ref[1]}) in found}


def _revisions(refs: set[Ref]) -> dict[Ref, int]:
    """The current revision of each teaching among ``refs``."""
    found: dict[Ref, int] = {}
    for kind, model in TEACHING_MODELS.items():
        ids = sorted(pk for ref_kind, pk in refs if ref_kind == kind)
        for start in range(0, len(ids), _CHUNK):
            chunk = model.objects.filter(pk__in=ids[start : start + _CHUNK])
            found.update(((kind, pk), rev) for pk, rev in chunk.values_list("pk", "revision"))
    return found
