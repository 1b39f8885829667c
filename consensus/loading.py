"""Teachings of a space as consensus-core items, and a per-process index kept current.

Building an index compiles every live condition, which is the slow part; a worker keeps each
space's index in memory and brings it up to date by comparing each teaching's stored
revision with the one the index holds, so a check after one write touches one teaching.
Anything the index cannot follow incrementally (schema or concept changes, which move every
rule's region) rebuilds it.

The index also holds a sample of the space's recent prediction inputs (``recent_inputs``):
an overlap many of them fall into is more severe. A check refreshes the sample when it has
changed and ``RECENT_REFRESH_SECONDS`` have passed since the last refresh (new traffic moves
every rule's severities, so every rule is re-checked: not on each write of a busy space).

``found`` holds what the store keeps of what the index finds (``mola.engine.consensus.shown``).
"""

from __future__ import annotations

import gc
import time
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from mola.db import consistent_read
from mola.engine.consensus import (
    ConceptItem,
    ConsensusIndex,
    Contradiction,
    ExampleItem,
    Ref,
    RuleItem,
)
from mola.engine.consensus.shown import shown_all, shown_refreshed
from mola.engine.language import ConditionError
from mola.engine.locks import KeyedLocks
from mola.engine.lru import LRU
from teaching.language import cached_condition, space_concepts_keyed
from teaching.models import LIVE_STATUSES, Concept, Example, Rule, Space
from teaching.selectors import recent_inputs

_MODELS = {"rule": Rule, "example": Example, "concept": Concept}
_CHUNK = 500  # ids per ``IN`` list when reading a few changed teachings
RECENT_REFRESH_SECONDS = 60.0
# Re-checking every rule one by one costs more than detecting everything at once from this
# many rules on (the bulk path groups the examples once for all rules).
_BULK_RECHECK_RULES = 64


@dataclass
class SpaceIndex:
    index: ConsensusIndex
    fingerprint: tuple  # schema and concept definitions the regions were compiled with
    versions: dict[Ref, int] = field(default_factory=dict)  # teaching revision per ref
    # What is stored, by key; None until a check asks (an index built for a preview: a
    # rule's preview needs only the index, and working out every contradiction at M took
    # ~6.5 of the first preview's ~10 s of CPU).
    found: dict[str, Contradiction] | None = field(default_factory=dict)
    revision: int = 0
    recent: list[dict] = field(default_factory=list)  # the recent inputs the index holds
    recent_at: float = 0.0  # ``time.monotonic()`` of their last refresh
    # What the store last wrote of this space (``consensus.store.StoreMemory``).
    memory: Any = None


# By space, least recently used first: at most ``settings.CONSENSUS_INDEXES_KEPT``; one
# dropped to make room is unfrozen (``_dropped``).
_indexes: LRU[int, SpaceIndex] = LRU(
    lambda: settings.CONSENSUS_INDEXES_KEPT, on_evict=lambda *_: _dropped()
)
# Web threads share a process's indexes. Each space's index is read or changed under that
# space's own lock (``index_lock``): building one at M takes seconds of CPU (~1.4 s for a
# preview, ~8 s with every contradiction for a check), which must not hold up another
# space's preview.
index_lock = KeyedLocks()


def _fingerprint(space: Space) -> tuple:
    concepts = Concept.objects.filter(space=space, status__in=LIVE_STATUSES)
    return (
        repr(space.features),
        repr(space.labels),
        tuple(sorted(concepts.values_list("name", "definition"))),
    )


def _live_versions(space: Space) -> dict[Ref, int]:
    versions: dict[Ref, int] = {}
    for kind, model in _MODELS.items():
        for pk, revision in model.objects.filter(space=space, status__in=LIVE_STATUSES).values_list(
            "pk", "revision"
        ):
            versions[Ref(kind, pk)] = revision
    return versions


def _rows(space: Space, kind: str, fields: tuple[str, ...], refs: set[Ref] | None) -> list[tuple]:
    """``fields`` of the live teachings of ``kind`` (all of them when ``refs`` is None): one
    query for a whole space, a few ``IN`` lists for a handful of changed ones."""
    live = _MODELS[kind].objects.filter(space=space, status__in=LIVE_STATUSES)
    if refs is None:
        return list(live.values_list(*fields))
    ids = sorted(r.id for r in refs if r.type == kind)
    rows: list[tuple] = []
    for start in range(0, len(ids), _CHUNK):
        rows += live.filter(pk__in=ids[start : start + _CHUNK]).values_list(*fields)
    return rows


def _items(space: Space, refs: set[Ref] | None) -> list[RuleItem | ExampleItem | ConceptItem]:
    """Items of the live teachings among ``refs`` (every live teaching when None). Plain rows,
    conditions compiled through the per-process cache the retrain shares."""
    schema = space.schema
    key, concepts = space_concepts_keyed(space)
    items: list[RuleItem | ExampleItem | ConceptItem] = []
    for pk, condition, label, author in _rows(
        space, "rule", ("pk", "condition", "label", "author__username"), refs
    ):
        try:
            region = cached_condition(condition, schema, concepts, key).region
        except ConditionError:
            continue
        items.append(RuleItem(id=pk, label=label, author=author, region=region, text=condition))
    example_fields = ("pk", "label", "author__username", "features", "refutes_id", "evaluation")
    for pk, label, author, features, refutes, evaluation in _rows(
        space, "example", example_fields, refs
    ):
        items.append(
            ExampleItem(
                id=pk,
                label=label,
                author=author,
                point=features,
                refutes=refutes,
                evaluation=evaluation,
            )
        )
    for pk, name, author in _rows(space, "concept", ("pk", "name", "author__username"), refs):
        if name in concepts:
            items.append(ConceptItem(id=pk, name=name, author=author, region=concepts[name].region))
    return items


@dataclass
class _Read:
    """One consistent read of a space: what an index needs, nothing computed yet."""

    space: Space
    fingerprint: tuple
    versions: dict[Ref, int]
    items: list[RuleItem | ExampleItem | ConceptItem]
    whole: bool  # ``items`` holds every live teaching (a fresh index is to be built)
    recent: list[dict] = field(default_factory=list)  # read for a fresh index only


def _read(space_id: int, cached: SpaceIndex | None) -> _Read:
    """The space read in one snapshot, and no write lock: every live teaching when there is
    no usable ``cached`` index, else only those whose revision moved since it was built."""
    with consistent_read():
        space = Space.objects.get(pk=space_id)
        fingerprint, versions = _fingerprint(space), _live_versions(space)
        if cached is None or cached.fingerprint != fingerprint:
            read = _Read(space, fingerprint, versions, _items(space, None), True)
        else:
            changed = {ref for ref, rev in versions.items() if cached.versions.get(ref) != rev}
            return _Read(space, fingerprint, versions, _items(space, changed), False)
    read.recent = recent_inputs(space=space)  # the shared cache, not the database
    return read


def _built(read: _Read, *, found: bool = True) -> SpaceIndex:
    """A fresh index of every live teaching, with every contradiction among them (when
    ``found``). No database access: the caller holds no transaction while this runs."""
    index = ConsensusIndex(read.space.schema, recent_points=read.recent)
    index.build(read.items)
    return SpaceIndex(
        index,
        read.fingerprint,
        dict(read.versions),
        shown_all(index) if found else None,
        read.space.teaching_revision,
        recent=read.recent,
        recent_at=time.monotonic(),
    )


def _traffic_moved(cached: SpaceIndex, space: Space) -> frozenset[Ref]:
    """The refs to re-check after refreshing the index's recent inputs (none when the
    sample is unchanged or was refreshed less than ``RECENT_REFRESH_SECONDS`` ago)."""
    now = time.monotonic()
    if now - cached.recent_at < RECENT_REFRESH_SECONDS:
        return frozenset()
    cached.recent_at = now
    rows = recent_inputs(space=space)
    if rows == cached.recent:
        return frozenset()
    cached.recent = rows
    return cached.index.set_recent_points(rows)


def fresh_index(space_id: int) -> tuple[Space, SpaceIndex]:
    """The space's index built from scratch (the process's cached one is left alone)."""
    read = _read(space_id, None)
    return read.space, _built(read)


def current_index(
    space_id: int, *, traffic: bool = False, found: bool = True
) -> tuple[Space, SpaceIndex]:
    """The space's index brought up to date with the database (built when missing), and
    with the recent prediction inputs when ``traffic`` (a check; not a preview). Its
    contradictions (``SpaceIndex.found``) are worked out when ``found``; otherwise they are
    kept current only if they were already (a preview asks for the index alone)."""
    with index_lock(space_id):
        cached = _indexes.peek(space_id)
        read = _read(space_id, cached)
        if read.whole or cached is None:
            built = _built(read, found=found)
            _keep(space_id, built)
            return read.space, built
        _indexes.get(space_id)  # now the most recently used (unless dropped meanwhile)
        gone = set(cached.versions) - set(read.versions)
        affected: set[Ref] = set()
        for ref in gone:
            affected |= cached.index.remove(ref)
        for item in read.items:
            affected |= cached.index.replace(item)
        if traffic:
            affected |= _traffic_moved(cached, read.space)
        cached.versions = dict(read.versions)
        rules = cached.index.rules
        rechecked = {ref.id for ref in affected if ref.type == "rule"}
        if cached.found is None:
            if found:  # the index was built for a preview: from scratch, as a build would
                cached.found = shown_all(cached.index)
        elif len(rules) >= _BULK_RECHECK_RULES and rechecked.issuperset(rules):
            # Every rule moved (new traffic): the same result as re-checking each one.
            cached.found = shown_all(cached.index)
        else:
            cached.found = shown_refreshed(cached.found, cached.index, affected)
        cached.revision = read.space.teaching_revision
        return read.space, cached


def _keep(space_id: int, built: SpaceIndex) -> None:
    """Keep a freshly built index, dropping the least recently used beyond the setting."""
    if _indexes.pop(space_id) is not None:
        _dropped()
    _indexes.put(space_id, built)


def _dropped() -> None:
    """An index was dropped: a check may have frozen it (``consensus.services``, so the
    collector stops scanning it); unfreeze, so that anything of it only a reference cycle
    holds is collected like any garbage."""
    gc.unfreeze()


def forget(space_id: int) -> None:
    with index_lock(space_id):
        if _indexes.pop(space_id) is not None:
            _dropped()
