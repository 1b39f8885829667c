"""Consensus: keep each space's contradictions and their threads current.

The pure core (``mola.engine.consensus``) finds contradictions; this module schedules checks,
stores what a check found (upsert by key), closes what is no longer found, groups open
disputes into threads, and closes contradictions when a moderator resolves their thread.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.db import transaction
from django.utils import timezone

from consensus.loading import SpaceIndex, build_index, current_index, read_state
from consensus.models import ConsensusState, Contradiction, ContradictionStatus
from consensus.threading import threads_sync
from mola.engine.consensus import Contradiction as Found
from teaching.models import Space
from teaching.services.disputes import teachings_mark_disputed

log = logging.getLogger(__name__)


def consensus_schedule(*, space_id: int, revision: int, refs: list[tuple[str, int]]) -> None:
    """Queue a consensus check of the space (on commit of a teaching write)."""
    from consensus.tasks import consensus_check_task

    consensus_check_task.delay(space_id, revision, [list(ref) for ref in refs])


def consensus_check(
    *, space_id: int, revision: int = 0, refs: list[tuple[str, int]] | None = None
) -> int:
    """Bring the space's stored contradictions up to date. Returns the revision checked.

    ``revision`` and ``refs`` say what changed; the index works out what to re-check by
    itself, so a lost or reordered task never leaves the store wrong, only late.
    """
    started = time.perf_counter()
    latest = Space.objects.filter(pk=space_id).values_list("teaching_revision", flat=True).first()
    if latest is None:
        return 0
    checked = (
        ConsensusState.objects.filter(space_id=space_id)
        .values_list("checked_revision", flat=True)
        .first()
    )
    if checked is not None and checked >= latest:
        return checked  # a burst of writes: an earlier task already checked the newest state
    space, current = current_index(space_id)
    contradictions_store(
        space=space,
        found=current.found,
        versions=current.versions,
        revision=current.revision,
        seconds=time.perf_counter() - started,
    )
    return current.revision


def consensus_recompute(*, space: Space) -> int:
    """Recompute a space's contradictions from scratch (no cached index), and store them."""
    started = time.perf_counter()
    space, fingerprint, versions = read_state(space.pk)
    fresh: SpaceIndex = build_index(space, fingerprint, versions)
    contradictions_store(
        space=space,
        found=fresh.found,
        versions=fresh.versions,
        revision=fresh.revision,
        seconds=time.perf_counter() - started,
        force=True,
    )
    return len(fresh.found)


def _ref_dicts(found: Found) -> list[dict[str, Any]]:
    return [{"type": ref.type, "id": ref.id} for ref in found.teachings]


def _revisions_of(found: Found, versions: dict) -> dict[str, int]:
    return {str(ref): versions.get(ref, 0) for ref in found.teachings}


def _plain(value: Any) -> Any:
    """JSON-safe copies of what the core returns (numpy scalars become Python numbers)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if hasattr(value, "item"):
        return value.item()
    return value


_FIELD_NAMES = (
    "kind",
    "teachings",
    "witness",
    "region",
    "evidence",
    "severity",
    "note",
    "summary",
    "expected",
    "checked_revision",
)


def _fields(item: Found, revision: int) -> dict[str, Any]:
    return {
        "kind": item.kind,
        "teachings": _ref_dicts(item),
        "witness": _plain(item.witness),
        "region": item.region_text,
        "evidence": _plain(item.evidence),
        "severity": round(float(item.severity), 4),
        "note": item.note,
        "summary": item.summary,
        "expected": item.expected,
        "checked_revision": revision,
    }


def contradictions_store(
    *,
    space: Space,
    found: dict[str, Found],
    versions: dict,
    revision: int,
    seconds: float = 0.0,
    force: bool = False,
) -> None:
    """Upsert what a check found at ``revision``; never store an older check over a newer.

    A closed contradiction found again stays closed while its teachings are unchanged
    (a dismissal or a precedence holds); once one of them changes, it opens again. An open
    one that is no longer found closes by itself, with a note.
    """
    newly_open: list[Contradiction] = []
    with transaction.atomic():
        state, _ = ConsensusState.objects.select_for_update().get_or_create(space=space)
        if revision < state.checked_revision and not force:
            return  # a newer check is stored already
        stored = {c.key: c for c in Contradiction.objects.filter(space=space)}
        now = timezone.now()
        created, changed = [], []
        for key, item in found.items():
            row = stored.get(key)
            fields = _fields(item, revision)
            if row is None:
                created.append(Contradiction(space=space, key=key, **fields))
                continue
            dirty = any(
                getattr(row, name) != value
                for name, value in fields.items()
                if name != "checked_revision"
            )
            for name, value in fields.items():
                setattr(row, name, value)
            closed = row.status != ContradictionStatus.OPEN
            if closed and row.closed_revisions != _revisions_of(item, versions):
                row.status, row.thread, row.closed_at = ContradictionStatus.OPEN, None, None
                row.close_note = "Opened again: one of its teachings changed."
                newly_open.append(row)
                dirty = True
            if dirty:
                changed.append(row)
        for key, row in stored.items():
            if key not in found and row.status == ContradictionStatus.OPEN:
                row.status = ContradictionStatus.RESOLVED
                row.closed_at = now
                row.close_note = (
                    f"Closed by itself at revision {revision}: "
                    "its teachings no longer contradict each other."
                )
                row.closed_revisions = {}
                changed.append(row)
        newly_open += Contradiction.objects.bulk_create(created, batch_size=500)
        Contradiction.objects.bulk_update(
            changed,
            [*_FIELD_NAMES, "status", "thread", "closed_at", "close_note", "closed_revisions"],
            batch_size=500,
        )
        open_rows = list(Contradiction.objects.filter(space=space, status=ContradictionStatus.OPEN))
        threads_sync(space=space, open_rows=open_rows, found=found)
        teachings_mark_disputed(
            space=space,
            refs={
                (t["type"], t["id"]) for row in open_rows if not row.expected for t in row.teachings
            },
        )
        state.checked_revision = max(state.checked_revision, revision)
        state.checks += 1
        state.last_seconds = seconds
        state.save()
    if newly_open:
        transaction.on_commit(lambda: _notify(space, newly_open))


def _notify(space: Space, rows: list[Contradiction]) -> None:
    try:
        from community.services.notifications import notify_teachings_disputed
    except ImportError:  # the community inbox is optional for the consensus core
        return
    notify_teachings_disputed(space, [r for r in rows if not r.expected])


def contradictions_close(*, thread, status: str, note: str) -> int:
    """Close a thread's open contradictions as a moderator decided; they stay closed until
    one of their teachings changes. Call inside the resolution's transaction."""
    from teaching.models import TEACHING_MODELS

    rows = list(Contradiction.objects.filter(thread=thread).exclude(status=status))
    now = timezone.now()
    for row in rows:
        revisions = {}
        for ref in row.teachings:
            current = (
                TEACHING_MODELS[ref["type"]]
                .objects.filter(pk=ref["id"])
                .values_list("revision", flat=True)
                .first()
            )
            revisions[f"{ref['type']}:{ref['id']}"] = current or 0
        row.status, row.closed_at, row.close_note = status, now, note
        row.closed_revisions = revisions
        row.save(update_fields=["status", "closed_at", "close_note", "closed_revisions"])
    teachings_mark_disputed(
        space=thread.space,
        refs={
            (t["type"], t["id"])
            for row in Contradiction.objects.filter(
                space=thread.space, status=ContradictionStatus.OPEN, expected=False
            )
            for t in row.teachings
        },
    )
    return len(rows)


def contradictions_reopen(*, thread) -> int:
    """An appeal reopens what the thread's resolution closed."""
    return (
        Contradiction.objects.filter(thread=thread)
        .exclude(status=ContradictionStatus.OPEN)
        .update(status=ContradictionStatus.OPEN, closed_at=None, closed_revisions={})
    )
