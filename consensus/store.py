"""Storing what a consensus check found: upsert by key, close what is no longer found, keep
what a moderator closed closed until one of its teachings changes, and hand the open
disputes up (``consensus.signals``: community opens their threads and tells the authors).

The stored rows are compared with what was found outside any write transaction (by digest:
``consensus.store_plan``), so the write lock is held only to write the difference
(``contradictions_store``); the fields and digests compared live in
``consensus.stored_fields``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping
from typing import Any

from django.db import connection, transaction
from django.db.models import JSONField
from django.utils import timezone

from consensus.dispute_threads import thread_requests
from consensus.evidence import closing_freeze, rule_evidence_plan, rule_evidence_write
from consensus.models import ConsensusState, Contradiction, ContradictionStatus
from consensus.signals import disputes_grouped, disputes_opened
from consensus.store_plan import Plan, StoreMemory, plan_store
from consensus.stored_fields import FIELD_NAMES
from mola.engine.consensus import Contradiction as Found
from mola.engine.consensus.counted import RuleCounts
from teaching.models import Space
from teaching.services.disputes import teachings_mark_disputed

__all__ = ["StoreMemory", "contradictions_store"]

_ATTNAMES = {field.name: field.attname for field in Contradiction._meta.concrete_fields}
INSERT_BATCH = 2_000  # rows per short write transaction when a check creates many
_PLAIN = frozenset((str, int, float, bool, type(None)))


class _Superseded(Exception):
    """Someone wrote the space's contradictions after the plan was read: plan again."""


def _claim(space: Space, plan: Plan, revision: int, force: bool) -> ConsensusState | None:
    """Inside a write transaction: the space's state if the plan still holds (None when a
    newer check is stored); raises ``_Superseded`` when another write came in between."""
    state, _ = ConsensusState.objects.select_for_update().get_or_create(space=space)
    if revision < state.checked_revision and not force:
        return None
    if state.generation != plan.generation:
        raise _Superseded
    state.generation = plan.generation = state.generation + 1
    ConsensusState.objects.filter(pk=state.pk).update(generation=state.generation)
    return state


def contradictions_store(
    *,
    space: Space,
    found: dict[str, Found],
    versions: dict,
    revision: int,
    seconds: float = 0.0,
    force: bool = False,
    memory: StoreMemory | None = None,
    counts: Mapping[int, RuleCounts] | None = None,
) -> None:
    """Upsert what a check found at ``revision``; never store an older check over a newer.

    A closed contradiction found again stays closed while its teachings are unchanged
    (a dismissal or a precedence holds); once one of them changes, it opens again. An open
    one that is no longer found closes by itself, with a note.

    The stored rows are compared with what was found outside any write transaction (each
    row's ``digest`` says whether it changed), so the write lock is held only to write the
    difference: new rows in batches of ``INSERT_BATCH``, each its own short transaction,
    then one transaction for the rest. Every write bumps the space's ``generation``; a
    write that finds it moved since the plan was read plans again.

    ``counts``: every rule's counts (``mola.engine.consensus.counted``), which the rule
    contradictions show; the rules' stored counts are brought up to date with the rows.
    """
    memory = StoreMemory() if memory is None else memory
    for _ in range(5):
        plan = plan_store(
            space=space,
            found=found,
            versions=versions,
            revision=revision,
            force=force,
            memory=memory,
        )
        if plan is None:
            return
        evidence = None
        if counts is not None:
            known = memory.counts if plan.stored is memory.rows else None
            evidence = rule_evidence_plan(space=space, counts=counts, memory=known)
        memory.counts = None  # set again once written
        try:
            written = _write(space, plan, found, revision, seconds, force, evidence=evidence)
        except _Superseded:
            memory.generation = -1
            continue
        _remember(memory, plan, found, written)
        if written is not None and evidence is not None:
            memory.counts = evidence[2]
        return
    raise RuntimeError(f"consensus store of space {space.pk} kept being superseded")


def _write(
    space: Space,
    plan: Plan,
    found: dict[str, Found],
    revision: int,
    seconds: float,
    force: bool,
    *,
    evidence: tuple | None = None,
) -> list[Contradiction] | None:
    """Write the plan (and the rules' counts that moved, ``evidence``: what
    ``rule_evidence_plan`` gave); the created rows, or None when a newer check was stored
    meanwhile."""
    newly_open: list[Contradiction] = []
    created: list[Contradiction] = []
    batches = [
        plan.created[i : i + INSERT_BATCH] for i in range(0, len(plan.created), INSERT_BATCH)
    ]
    for batch in batches[:-1]:
        with transaction.atomic():
            if _claim(space, plan, revision, force) is None:
                return None
            created += Contradiction.objects.bulk_create(batch)
    with transaction.atomic():
        state = _claim(space, plan, revision, force)
        if state is None:
            return None
        if batches:
            created += Contradiction.objects.bulk_create(batches[-1])
        newly_open += created
        _rows_update([(change.pk, change.values) for change in plan.changed])
        reopening = ("status", "thread", "closed_at", "close_note")
        _rows_update(
            [
                (
                    row.pk,
                    {name: getattr(row, _ATTNAMES[name]) for name in (*FIELD_NAMES, *reopening)},
                )
                for row in plan.reopened
            ]
        )
        newly_open += plan.reopened
        # Before the rules' counts move: a row no longer found keeps what it showed.
        leaving = [plan.stored[key][0] for key in plan.leaving]
        _rows_update(closing_freeze(space=space, pks=leaving))
        closing = [plan.stored[key][0] for key in plan.closing]
        if evidence is not None:
            rule_evidence_write(space=space, written=evidence[0], gone=evidence[1])
        for start in range(0, len(closing), 500):
            Contradiction.objects.filter(pk__in=closing[start : start + 500]).update(
                status=ContradictionStatus.RESOLVED,
                closed_at=timezone.now(),
                close_note=f"Closed by itself at revision {revision}: "
                "its teachings no longer contradict each other.",
                closed_revisions={},
            )
        disputes_grouped.send(
            sender=Contradiction, space=space, groups=thread_requests(plan.threads)
        )
        teachings_mark_disputed(space=space, refs=plan.disputed)
        state.checked_revision = max(state.checked_revision, revision)
        state.checks += 1
        state.last_seconds = seconds
        state.save()
    if newly_open:
        transaction.on_commit(lambda: _notify(space, newly_open))
    return created


def _prep(field) -> Callable[[Any], Any]:
    """How a value of ``field`` goes to the database driver: as it is when it is a plain
    value of a field that is not JSON (the field's own preparation gives it back, at tens of
    thousands of calls per example edit at M), else through the field."""
    if isinstance(field, JSONField):
        return lambda value: field.get_db_prep_save(value, connection)
    return lambda value: (
        value if type(value) in _PLAIN else field.get_db_prep_save(value, connection)
    )


def _rows_update(rows: list[tuple[int, dict[str, Any]]]) -> None:
    """Write each row's values (pk, {field name: value}) with one prepared ``UPDATE … WHERE
    id = %s`` per set of field names, run with ``executemany``: Django's ``bulk_update``
    builds a ``CASE`` expression per row and field, which cost 35 s of CPU for the ~15k rows
    a one-example edit changes at M."""
    by_names: dict[tuple[str, ...], list[tuple[int, dict[str, Any]]]] = defaultdict(list)
    for pk, values in rows:
        by_names[tuple(values)].append((pk, values))
    quote, meta = connection.ops.quote_name, Contradiction._meta
    for names, batch in by_names.items():
        fields = [meta.get_field(name) for name in names]
        assignments = ", ".join(f"{quote(field.column)} = %s" for field in fields)
        sql = f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {quote(meta.pk.column)} = %s"
        preps = [_prep(field) for field in fields]
        params = [
            [prep(values[name]) for prep, name in zip(preps, names, strict=True)] + [pk]
            for pk, values in batch
        ]
        with connection.cursor() as cursor:
            for start in range(0, len(params), INSERT_BATCH):
                cursor.executemany(sql, params[start : start + INSERT_BATCH])


def _remember(
    memory: StoreMemory,
    plan: Plan,
    found: Mapping[str, Found],
    created: list[Contradiction] | None,
) -> None:
    """The stored rows after ``plan`` was written, for the next check of this process."""
    if created is None or any(row.pk is None for row in created):
        memory.generation = -1  # not written, or the database did not say the new ids
        return
    rows = plan.stored  # read for this plan alone, or the memory itself: updated in place
    for row in [*created, *plan.changed, *plan.reopened]:
        rows[row.key] = (row.pk, row.status, row.digest)
    for key in plan.leaving:  # frozen or not, compared in full when found again
        pk, status, _ = rows[key]
        rows[key] = (pk, status, "")
    for key in plan.closing:
        pk, _, digest = rows[key]
        rows[key] = (pk, ContradictionStatus.RESOLVED, digest)
    memory.rows, memory.generation = rows, plan.generation
    memory.found, memory.opened = found, plan.opened


NOTIFY_BATCH = 500  # contradictions per call: the community inbox reads them with one IN list


def _notify(space: Space, rows: list[Contradiction]) -> None:
    disputes = [r for r in rows if not r.expected]
    for start in range(0, len(disputes), NOTIFY_BATCH):
        batch = disputes[start : start + NOTIFY_BATCH]
        disputes_opened.send(sender=Contradiction, space=space, contradictions=batch)
