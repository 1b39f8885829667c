"""Teachings of a space as consensus-core items, and a per-process index kept current.

Building an index compiles every live condition, which is the slow part; a worker keeps each
space's index in memory and brings it up to date by comparing each teaching's stored
revision with the one the index holds, so a check after one write touches one teaching.
Anything the index cannot follow incrementally (schema or concept changes, which move every
rule's region) rebuilds it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from threading import Lock
from typing import Any

from mola.db import consistent_read
from mola.engine.consensus import (
    ConceptItem,
    ConsensusIndex,
    Contradiction,
    ExampleItem,
    Ref,
    RuleItem,
    refreshed,
)
from mola.engine.language import ConditionError
from teaching.language import cached_condition, space_concepts_keyed
from teaching.models import LIVE_STATUSES, Concept, Example, Rule, Space

_MODELS = {"rule": Rule, "example": Example, "concept": Concept}
_CHUNK = 500  # ids per ``IN`` list when reading a few changed teachings


@dataclass
class SpaceIndex:
    index: ConsensusIndex
    fingerprint: tuple  # schema and concept definitions the regions were compiled with
    versions: dict[Ref, int] = field(default_factory=dict)  # teaching revision per ref
    found: dict[str, Contradiction] = field(default_factory=dict)
    revision: int = 0
    # What the store last wrote of this space (``consensus.services.StoreMemory``).
    memory: Any = None


_indexes: dict[int, SpaceIndex] = {}
# Held while an index is read or changed: web threads share a process's indexes.
index_lock = Lock()


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


def _read(space_id: int, cached: SpaceIndex | None) -> _Read:
    """The space read in one snapshot, and no write lock: every live teaching when there is
    no usable ``cached`` index, else only those whose revision moved since it was built."""
    with consistent_read():
        space = Space.objects.get(pk=space_id)
        fingerprint, versions = _fingerprint(space), _live_versions(space)
        if cached is None or cached.fingerprint != fingerprint:
            return _Read(space, fingerprint, versions, _items(space, None), True)
        changed = {ref for ref, rev in versions.items() if cached.versions.get(ref) != rev}
        return _Read(space, fingerprint, versions, _items(space, changed), False)


def _built(read: _Read) -> SpaceIndex:
    """A fresh index of every live teaching, with every contradiction among them. No
    database access: the caller holds no transaction while this runs."""
    index = ConsensusIndex(read.space.schema)
    for item in read.items:
        index.replace(item)
    found = {c.key: c for c in index.detect_all()}
    return SpaceIndex(
        index, read.fingerprint, dict(read.versions), found, read.space.teaching_revision
    )


def fresh_index(space_id: int) -> tuple[Space, SpaceIndex]:
    """The space's index built from scratch (the process's cached one is left alone)."""
    read = _read(space_id, None)
    return read.space, _built(read)


def current_index(space_id: int) -> tuple[Space, SpaceIndex]:
    """The space's index brought up to date with the database (built when missing)."""
    with index_lock:
        cached = _indexes.get(space_id)
        read = _read(space_id, cached)
        if read.whole or cached is None:
            cached = _indexes[space_id] = _built(read)
            return read.space, cached
        gone = set(cached.versions) - set(read.versions)
        affected: set[Ref] = set()
        for ref in gone:
            affected |= cached.index.remove(ref)
        for item in read.items:
            affected |= cached.index.replace(item)
        cached.versions = dict(read.versions)
        cached.found = refreshed(cached.found, cached.index, affected)
        cached.revision = read.space.teaching_revision
        return read.space, cached


def forget(space_id: int) -> None:
    with index_lock:
        _indexes.pop(space_id, None)
