"""Storing what a consensus check found: upsert by key, close what is no longer found, keep
what a moderator closed closed until one of its teachings changes, and hand the open
disputes up (``consensus.signals``: community opens their threads and tells the authors).

The stored rows are compared with what was found outside any write transaction (by digest),
so the write lock is held only to write the difference (``contradictions_store``); the
fields and digests compared live in ``consensus.stored_fields``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from consensus.columns import teaching_columns_fill
from consensus.dispute_threads import ThreadMemory, ThreadPlan, thread_requests, threads_plan
from consensus.models import ConsensusState, Contradiction, ContradictionStatus
from consensus.outside import OUTSIDE_KINDS
from consensus.signals import disputes_grouped, disputes_opened
from consensus.stored_fields import (
    FIELD_NAMES,
    Digests,
    changed_fields,
    content_digest,
    revisions_of,
    stored_content,
    stored_fields,
)
from mola.db import consistent_read
from mola.engine.consensus import Contradiction as Found
from mola.engine.consensus import Ref
from teaching.models import TEACHING_MODELS, Space, Status
from teaching.services.disputes import teachings_mark_disputed

_ATTNAMES = {field.name: field.attname for field in Contradiction._meta.concrete_fields}
INSERT_BATCH = 2_000  # rows per short write transaction when a check creates many
StoredRows = dict[str, tuple[int, str, str]]  # key → pk, status, digest


@dataclass
class StoreMemory:
    """What a process remembers of its last store of a space, so the next check compares
    in memory rather than reading every stored row back (780k at M): the digests of what
    was found, and the stored rows as of ``generation`` — valid while no one else wrote;
    and the disputes' grouping into threads, so that it regroups only what changed."""

    digests: Digests = field(default_factory=dict)
    rows: StoredRows = field(default_factory=dict)
    generation: int = -1
    threads: ThreadMemory = field(default_factory=ThreadMemory)


@dataclass
class _Change:
    """A stored row whose content changed: the columns to write (``digest`` and
    ``checked_revision`` among them). A plain record, not a model instance: an example edit
    at M changes ~14k rows, and building and saving models for them cost seconds."""

    pk: int
    key: str
    status: str
    digest: str
    values: dict[str, Any]


@dataclass
class _Plan:
    """What one check writes, worked out from a read of the stored rows (no lock held)."""

    generation: int
    stored: StoredRows  # as read when planning
    created: list[Contradiction]
    changed: list[_Change]  # open (or staying closed) rows whose content changed
    reopened: list[Contradiction]  # pk set; every field in ``FIELD_NAMES``, status open
    closing: list[str]  # keys of open rows no longer found
    open_keys: set[str]  # found keys that are open once the plan is written
    reopened_keys: set[str]
    threads: ThreadPlan
    disputed: set[tuple[str, int]]  # the teachings in an open dispute once it is written


def _proposed(space: Space) -> set[Ref]:
    """The space's proposed teachings: their disputes wait for review, not for a thread."""
    return {
        Ref(kind, pk)
        for kind, model in TEACHING_MODELS.items()
        for pk in model.objects.filter(space=space, status=Status.PROPOSED).values_list(
            "pk", flat=True
        )
    }


def _stored(space: Space, revision: int, force: bool, memory: StoreMemory) -> tuple | None:
    """One consistent read of what ``_plan`` compares with: the space's generation, its
    proposed teachings, the stored rows (from ``memory`` while no one else wrote), closed
    rows' revisions, open rows' threads and appealed rows; None when a newer check is
    stored."""
    with consistent_read():
        state = ConsensusState.objects.filter(space=space).values_list(
            "checked_revision", "generation"
        )
        checked, generation = state.first() or (0, 0)
        if revision < checked and not force:
            return None
        proposed = _proposed(space)
        if memory.generation == generation:
            stored = memory.rows
        else:
            # Rows another app found are not the core's to compare or close.
            rows = Contradiction.objects.filter(space=space).exclude(kind__in=OUTSIDE_KINDS)
            stored = {
                key: (pk, status, digest)
                for pk, key, status, digest in rows.values_list("pk", "key", "status", "digest")
            }
        closed_revisions = dict(
            Contradiction.objects.filter(space=space)
            .exclude(status=ContradictionStatus.OPEN)
            .values_list("key", "closed_revisions")
        )
        threaded = dict(
            Contradiction.objects.filter(
                space=space, status=ContradictionStatus.OPEN, thread__isnull=False
            ).values_list("key", "thread_id")
        )
        appealed = dict(
            Contradiction.objects.filter(
                space=space, status=ContradictionStatus.OPEN, appealed=True
            ).values_list("key", "teachings")
        )
    return generation, proposed, stored, closed_revisions, threaded, appealed


def _plan(
    *,
    space: Space,
    found: dict[str, Found],
    versions: dict,
    revision: int,
    force: bool,
    memory: StoreMemory,
) -> _Plan | None:
    """Compare what was found with what is stored; None when a newer check is stored."""
    read = _stored(space, revision, force, memory)
    if read is None:
        return None
    generation, proposed, stored, closed_revisions, threaded, appealed = read
    digests = memory.digests
    disputed: set[Ref] = set()  # the teachings of the open disputes, gathered on the way
    plan = _Plan(generation, stored, [], [], [], [], set(), set(), ThreadPlan([], {}), set())
    for key, item in found.items():
        row = stored.get(key)
        if row is None:
            fields = stored_fields(item, revision)
            digests[key] = (item, fields["digest"])
            plan.created.append(Contradiction(space=space, key=key, **fields))
            plan.open_keys.add(key)
            if not item.expected:
                disputed.update(item.teachings)
            continue
        pk, status, digest = row
        reopen = status != ContradictionStatus.OPEN and closed_revisions.get(key) != revisions_of(
            item, versions
        )
        if reopen or status == ContradictionStatus.OPEN:
            plan.open_keys.add(key)
            if not item.expected:
                disputed.update(item.teachings)
        known = digests.get(key)
        if known is not None and known[0] is item and known[1] == digest and not reopen:
            continue  # the index handed back the object stored last time: unchanged
        content = stored_content(item)
        fresh = content_digest(content)
        digests[key] = (item, fresh)
        if fresh == digest and not reopen:
            continue
        if reopen:
            row = Contradiction(pk=pk, space=space, key=key, **content)
            row.digest, row.checked_revision = fresh, revision
            row.status, row.thread, row.closed_at = ContradictionStatus.OPEN, None, None
            row.close_note = "Opened again: one of its teachings changed."
            plan.reopened.append(row)
            plan.reopened_keys.add(key)
            continue
        # What the row holds is ``known``'s content when its digest is the stored one.
        before = known[0] if known is not None and known[1] == digest else None
        values = {name: content[name] for name in changed_fields(before, item)}
        values.update(digest=fresh, checked_revision=revision)
        plan.changed.append(_Change(pk, key, status, fresh, values))
    plan.disputed = {(ref.type, ref.id) for ref in disputed}
    plan.threads = threads_plan(
        found=found,
        open_keys=plan.open_keys,
        threaded={k: t for k, t in threaded.items() if k not in plan.reopened_keys},
        held=proposed,
        memory=memory.threads,
    )
    teaching_columns_fill(space=space, rows=plan.created)
    for key in [key for key in digests if key not in found]:
        del digests[key]
    plan.closing = [
        key
        for key, (_, status, _) in stored.items()
        if key not in found
        and status == ContradictionStatus.OPEN
        and not _held_by_appeal(appealed.get(key), versions)
    ]
    plan.disputed |= {
        (t["type"], int(t["id"]))
        for key, teachings in appealed.items()
        if key not in found and _held_by_appeal(teachings, versions)
        for t in teachings
    }
    return plan


def _held_by_appeal(teachings: list[dict] | None, versions: dict) -> bool:
    """An appeal reopened it and one of its teachings is out of the check (the retired
    teaching the appeal is about): it stays open for the second look, not closed as gone."""
    if teachings is None:
        return False
    return any(Ref(t["type"], int(t["id"])) not in versions for t in teachings)


class _Superseded(Exception):
    """Someone wrote the space's contradictions after the plan was read: plan again."""


def _claim(space: Space, plan: _Plan, revision: int, force: bool) -> ConsensusState | None:
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
    """
    memory = StoreMemory() if memory is None else memory
    for _ in range(5):
        plan = _plan(
            space=space,
            found=found,
            versions=versions,
            revision=revision,
            force=force,
            memory=memory,
        )
        if plan is None:
            return
        try:
            written = _write(space, plan, found, revision, seconds, force)
        except _Superseded:
            memory.generation = -1
            continue
        _remember(memory, plan, written)
        return
    raise RuntimeError(f"consensus store of space {space.pk} kept being superseded")


def _write(
    space: Space, plan: _Plan, found: dict[str, Found], revision: int, seconds: float, force: bool
) -> list[Contradiction] | None:
    """Write the plan; the created rows, or None when a newer check was stored meanwhile."""
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
        closing = [plan.stored[key][0] for key in plan.closing]
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
        params = [
            [field.get_db_prep_save(values[field.name], connection) for field in fields] + [pk]
            for pk, values in batch
        ]
        with connection.cursor() as cursor:
            for start in range(0, len(params), INSERT_BATCH):
                cursor.executemany(sql, params[start : start + INSERT_BATCH])


def _remember(memory: StoreMemory, plan: _Plan, created: list[Contradiction] | None) -> None:
    """The stored rows after ``plan`` was written, for the next check of this process."""
    if created is None or any(row.pk is None for row in created):
        memory.generation = -1  # not written, or the database did not say the new ids
        return
    rows = plan.stored  # read for this plan alone, or the memory itself: updated in place
    for row in [*created, *plan.changed, *plan.reopened]:
        rows[row.key] = (row.pk, row.status, row.digest)
    for key in plan.closing:
        pk, _, digest = rows[key]
        rows[key] = (pk, ContradictionStatus.RESOLVED, digest)
    memory.rows, memory.generation = rows, plan.generation


NOTIFY_BATCH = 500  # contradictions per call: the community inbox reads them with one IN list


def _notify(space: Space, rows: list[Contradiction]) -> None:
    disputes = [r for r in rows if not r.expected]
    for start in range(0, len(disputes), NOTIFY_BATCH):
        batch = disputes[start : start + NOTIFY_BATCH]
        disputes_opened.send(sender=Contradiction, space=space, contradictions=batch)
