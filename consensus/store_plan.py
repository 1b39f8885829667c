"""Planning a consensus store: what a check found, compared with the stored rows outside any
write transaction (by digest), as the rows to create, change, reopen and close
(``plan_store``); ``consensus.store`` then writes the plan. ``StoreMemory`` is what a process
keeps of its last store of a space so that the next plan compares in memory, and after a
small change only what moved.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from consensus.columns import teaching_columns_fill
from consensus.dispute_threads import ThreadMemory, ThreadPlan, threads_plan
from consensus.evidence import CountsMemory
from consensus.models import ConsensusState, Contradiction, ContradictionStatus
from consensus.outside import OUTSIDE_KINDS
from consensus.stored_fields import (
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
    # What the last written plan was made from and found open: a plan from a set refreshed
    # from ``found`` (``Shown.since``) revisits only the keys that changed.
    found: Mapping[str, Found] | None = None
    opened: _Open | None = None
    # The rules' counts as last written (``consensus.evidence``), valid with ``rows``.
    counts: CountsMemory | None = None


@dataclass
class _Open:
    """The found keys that are open once a plan is written, and how many open disputes
    (not ``expected``) hold each teaching: the teachings to flag as disputed."""

    keys: set[str] = field(default_factory=set)
    disputes: dict[Ref, int] = field(default_factory=dict)

    def add(self, key: str, item: Found) -> None:
        self.keys.add(key)
        if not item.expected:
            for ref in item.teachings:
                self.disputes[ref] = self.disputes.get(ref, 0) + 1

    def discard(self, key: str, item: Found) -> None:
        """Forget ``key``, which was added as ``item``."""
        if key not in self.keys:
            return
        self.keys.discard(key)
        if not item.expected:
            for ref in item.teachings:
                left = self.disputes[ref] - 1
                if left:
                    self.disputes[ref] = left
                else:
                    del self.disputes[ref]


@dataclass
class Change:
    """A stored row whose content changed: the columns to write (``digest`` and
    ``checked_revision`` among them). A plain record, not a model instance: an example edit
    at M changes ~14k rows, and building and saving models for them cost seconds."""

    pk: int
    key: str
    status: str
    digest: str
    values: dict[str, Any]


@dataclass
class Plan:
    """What one check writes, worked out from a read of the stored rows (no lock held)."""

    generation: int
    stored: StoredRows  # as read when planning
    created: list[Contradiction]
    changed: list[Change]  # open (or staying closed) rows whose content changed
    reopened: list[Contradiction]  # pk set; every field in ``FIELD_NAMES``, status open
    closing: list[str]  # keys of open rows no longer found
    # Keys of stored rows no longer found, whatever their status (closing, closed, or held
    # open by an appeal): they keep the words they showed (``consensus.evidence``).
    leaving: list[str]
    opened: _Open  # found keys that are open once the plan is written
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
        # Each read names the statuses and drops the list's ordering, so that it reads only
        # the few rows it wants through an index (each walked every row of the space at M).
        rows = Contradiction.objects.filter(space=space).order_by()
        closed = [ContradictionStatus.RESOLVED, ContradictionStatus.DISMISSED]
        closed_revisions = dict(
            rows.filter(status__in=closed).values_list("key", "closed_revisions")
        )
        opened = rows.filter(status=ContradictionStatus.OPEN)
        threaded = dict(opened.filter(thread__isnull=False).values_list("key", "thread_id"))
        appealed = dict(opened.filter(appealed=True).values_list("key", "teachings"))
    return generation, proposed, stored, closed_revisions, threaded, appealed


def plan_store(
    *,
    space: Space,
    found: Mapping[str, Found],
    versions: dict,
    revision: int,
    force: bool,
    memory: StoreMemory,
) -> Plan | None:
    """Compare what was found with what is stored; None when a newer check is stored.

    When nobody else wrote since this process's last plan of the space and ``found`` was
    refreshed from that plan's set (``Shown``), only its changed keys and the closed rows
    (which may open again) are compared: every other key holds the very object whose digest
    is stored, open. Otherwise every key is compared."""
    read = _stored(space, revision, force, memory)
    if read is None:
        return None
    generation, proposed, stored, closed_revisions, threaded, appealed = read
    last, memory.found = memory.found, None  # set again once this plan is written
    since = getattr(found, "since", None)
    if last is not None and since is last and memory.generation == generation:
        opened = memory.opened
        changed: Iterable[str] = found.changed  # type: ignore[attr-defined]
        candidates = {*changed, *(key for key in closed_revisions if key in found)}
        for key in candidates:
            if key in opened.keys:
                opened.discard(key, last[key])
        gone = [key for key in changed if key not in found]
        may_close: Iterable[str] = {*gone, *appealed}
        open_moved: set[str] | None = candidates  # no other key's open state moves
    else:
        opened, candidates, open_moved = _Open(), found.keys(), None
        gone = [key for key in memory.digests if key not in found]
        may_close = stored.keys()
    plan = Plan(generation, stored, [], [], [], [], [], opened, set(), ThreadPlan([], {}), set())
    for key in candidates:
        item = found.get(key)
        if item is not None:
            _plan_row(plan, space, key, item, memory.digests, closed_revisions, versions, revision)
    plan.threads = threads_plan(
        found=found,
        open_keys=opened.keys,
        threaded={k: t for k, t in threaded.items() if k not in plan.reopened_keys},
        held=proposed,
        memory=memory.threads,
        open_moved=open_moved,
    )
    teaching_columns_fill(space=space, rows=plan.created)
    for key in gone:
        memory.digests.pop(key, None)
    plan.leaving = [key for key in may_close if key not in found and key in stored]
    plan.closing = [
        key
        for key in plan.leaving
        if stored[key][1] == ContradictionStatus.OPEN
        and not held_by_appeal(appealed.get(key), versions)
    ]
    plan.disputed = {(ref.type, ref.id) for ref in opened.disputes}
    plan.disputed |= {
        (t["type"], int(t["id"]))
        for key, teachings in appealed.items()
        if key not in found and held_by_appeal(teachings, versions)
        for t in teachings
    }
    return plan


def _plan_row(
    plan: Plan,
    space: Space,
    key: str,
    item: Found,
    digests: Digests,
    closed_revisions: dict[str, Any],
    versions: dict,
    revision: int,
) -> None:
    """Compare one found contradiction with its stored row (if any) and add to ``plan``
    what to write of it."""
    row = plan.stored.get(key)
    if row is None:
        fields = stored_fields(item, revision)
        digests[key] = (item, fields["digest"])
        plan.created.append(Contradiction(space=space, key=key, **fields))
        plan.opened.add(key, item)
        return
    pk, status, digest = row
    reopen = status != ContradictionStatus.OPEN and closed_revisions.get(key) != revisions_of(
        item, versions
    )
    if reopen or status == ContradictionStatus.OPEN:
        plan.opened.add(key, item)
    known = digests.get(key)
    if known is not None and known[0] is item and known[1] == digest and not reopen:
        return  # the index handed back the object stored last time: unchanged
    content = stored_content(item)
    fresh = content_digest(content)
    digests[key] = (item, fresh)
    if fresh == digest and not reopen:
        return
    if reopen:
        reopened = Contradiction(pk=pk, space=space, key=key, **content)
        reopened.digest, reopened.checked_revision = fresh, revision
        reopened.status, reopened.thread, reopened.closed_at = ContradictionStatus.OPEN, None, None
        reopened.close_note = "Opened again: one of its teachings changed."
        plan.reopened.append(reopened)
        plan.reopened_keys.add(key)
        return
    # What the row holds is ``known``'s content when its digest is the stored one.
    before = known[0] if known is not None and known[1] == digest else None
    values = {name: content[name] for name in changed_fields(before, item)}
    values.update(digest=fresh, checked_revision=revision)
    plan.changed.append(Change(pk, key, status, fresh, values))


def held_by_appeal(teachings: list[dict] | None, versions: dict) -> bool:
    """An appeal reopened it and one of its teachings is out of the check (the retired
    teaching the appeal is about): it stays open for the second look, not closed as gone."""
    if teachings is None:
        return False
    return any(Ref(t["type"], int(t["id"])) not in versions for t in teachings)
