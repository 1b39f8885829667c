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
from mola.engine.language import ConditionError, compile_condition
from teaching.language import space_concepts
from teaching.models import LIVE_STATUSES, Concept, Example, Rule, Space

_MODELS = {"rule": Rule, "example": Example, "concept": Concept}


@dataclass
class SpaceIndex:
    index: ConsensusIndex
    fingerprint: tuple  # schema and concept definitions the regions were compiled with
    versions: dict[Ref, int] = field(default_factory=dict)  # teaching revision per ref
    found: dict[str, Contradiction] = field(default_factory=dict)
    revision: int = 0


_indexes: dict[int, SpaceIndex] = {}
_lock = Lock()


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


def _items(space: Space, refs: set[Ref]) -> list[RuleItem | ExampleItem | ConceptItem]:
    schema, concepts = space.schema, space_concepts(space)
    wanted = {kind: [r.id for r in refs if r.type == kind] for kind in _MODELS}
    items: list[RuleItem | ExampleItem | ConceptItem] = []
    for rule in Rule.objects.filter(pk__in=wanted["rule"]).select_related("author"):
        try:
            region = compile_condition(rule.condition, schema, concepts).region
        except ConditionError:
            continue
        items.append(
            RuleItem(
                id=rule.pk,
                label=rule.label,
                author=rule.author.username,
                region=region,
                text=rule.condition,
            )
        )
    for example in Example.objects.filter(pk__in=wanted["example"]).select_related("author"):
        items.append(
            ExampleItem(
                id=example.pk,
                label=example.label,
                author=example.author.username,
                point=example.features,
                refutes=example.refutes_id,
                evaluation=example.evaluation,
            )
        )
    for concept in Concept.objects.filter(pk__in=wanted["concept"]).select_related("author"):
        if concept.name in concepts:
            items.append(
                ConceptItem(
                    id=concept.pk,
                    name=concept.name,
                    author=concept.author.username,
                    region=concepts[concept.name].region,
                )
            )
    return items


def read_state(space_id: int) -> tuple[Space, tuple, dict[Ref, int]]:
    """The space, its fingerprint and its live teachings' revisions, read consistently."""
    with consistent_read():
        space = Space.objects.get(pk=space_id)
        return space, _fingerprint(space), _live_versions(space)


def build_index(space: Space, fingerprint: tuple, versions: dict[Ref, int]) -> SpaceIndex:
    """A fresh index of every live teaching, with every contradiction among them."""
    index = ConsensusIndex(space.schema)
    for item in _items(space, set(versions)):
        index.replace(item)
    found = {c.key: c for c in index.detect_all()}
    return SpaceIndex(index, fingerprint, dict(versions), found, space.teaching_revision)


def current_index(space_id: int) -> tuple[Space, SpaceIndex]:
    """The space's index brought up to date with the database (built when missing)."""
    space, fingerprint, versions = read_state(space_id)
    with _lock:
        cached = _indexes.get(space_id)
        if cached is None or cached.fingerprint != fingerprint:
            cached = _indexes[space_id] = build_index(space, fingerprint, versions)
            return space, cached
        changed = {ref for ref, rev in versions.items() if cached.versions.get(ref) != rev}
        gone = set(cached.versions) - set(versions)
        affected: set[Ref] = set()
        for ref in gone:
            affected |= cached.index.remove(ref)
        for item in _items(space, changed):
            affected |= cached.index.replace(item)
        cached.versions = dict(versions)
        cached.found = refreshed(cached.found, cached.index, affected)
        cached.revision = space.teaching_revision
        return space, cached


def forget(space_id: int) -> None:
    with _lock:
        _indexes.pop(space_id, None)
