"""The condition language applied to a space: its compiled concepts, and errors as API errors.

Compiled concepts are cached by content (the schema and every live definition), so a cached
entry can never be stale, whatever transaction rolled back. Compiled rule conditions are
cached the same way, by their text and the content key of the concepts they were compiled
against, so a retrain after one edit compiles one condition, not every rule of the space.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

import networkx as nx

from mola.engine.language import Condition, ConditionError, compile_condition, referenced_names
from mola.engine.lru import LRU
from mola.engine.schema import Schema
from mola.errors import InvalidInput
from teaching.models import LIVE_STATUSES, Concept, Space

_CACHE_SIZE = 64
_cache: LRU[str, dict[str, Condition]] = LRU(_CACHE_SIZE)
# (concepts key, condition text) → compiled condition; big enough for a few large spaces.
_CONDITION_CACHE_SIZE = 20_000
_conditions: LRU[tuple[str, str], Condition] = LRU(_CONDITION_CACHE_SIZE)


def condition_error(exc: ConditionError, field: str) -> InvalidInput:
    return InvalidInput(problems=[{"field": field, **exc.as_dict()}])


def concept_graph(definitions: Mapping[str, str]) -> nx.DiGraph:
    """Edges concept → concept it names. Names that are not concepts are left out."""
    graph = nx.DiGraph()
    graph.add_nodes_from(definitions)
    for name, definition in definitions.items():
        try:
            names = referenced_names(definition)
        except ConditionError:
            continue
        graph.add_edges_from((name, other) for other in names if other in definitions)
    return graph


def compile_concepts(schema: Schema, definitions: Mapping[str, str]) -> dict[str, Condition]:
    """Compile concepts in dependency order; a concept that fails is left out, and so is
    everything that depends on it (the write services never let that happen)."""
    graph = concept_graph(definitions)
    compiled: dict[str, Condition] = {}
    if not nx.is_directed_acyclic_graph(graph):
        return compiled
    for name in reversed(list(nx.topological_sort(graph))):
        try:
            compiled[name] = compile_condition(definitions[name], schema, compiled)
        except ConditionError:
            continue
    return compiled


def live_concept_definitions(space: Space) -> dict[str, str]:
    return dict(
        Concept.objects.filter(space=space, status__in=LIVE_STATUSES).values_list(
            "name", "definition"
        )
    )


def concepts_key(space: Space, definitions: Mapping[str, str]) -> str:
    """A digest of everything compiled concepts depend on: the schema and the definitions."""
    content = repr((space.features, space.labels, sorted(definitions.items())))
    return hashlib.sha256(content.encode()).hexdigest()


def space_concepts_keyed(space: Space) -> tuple[str, dict[str, Condition]]:
    """The space's compiled live concepts, and their content key (for ``cached_condition``)."""
    definitions = live_concept_definitions(space)
    key = concepts_key(space, definitions)
    compiled = _cache.get(key)
    if compiled is None:
        compiled = compile_concepts(space.schema, definitions)
        _cache.put(key, compiled)
    return key, compiled


def space_concepts(space: Space) -> dict[str, Condition]:
    return space_concepts_keyed(space)[1]


def cached_condition(
    text: str, schema: Schema, concepts: Mapping[str, Condition], key: str
) -> Condition:
    """``compile_condition(text, schema, concepts)``, cached per process.

    ``key`` must be the content key of ``concepts`` (from ``space_concepts_keyed``): it
    covers the schema and every definition, so an entry is never stale. Errors are not
    cached; they raise ``ConditionError`` as ``compile_condition`` does.
    """
    entry = (key, text)
    compiled = _conditions.get(entry)
    if compiled is None:
        compiled = compile_condition(text, schema, concepts)
        _conditions.put(entry, compiled)
    return compiled


def compile_in_space(
    text: str, *, space: Space, field: str, concepts: Mapping[str, Condition] | None = None
) -> Condition:
    """Compile a rule condition or concept definition, or raise a 400 naming ``field``."""
    try:
        if concepts is None:
            key, compiled = space_concepts_keyed(space)
            return cached_condition(text, space.schema, compiled, key)
        return compile_condition(text, space.schema, concepts)
    except ConditionError as exc:
        raise condition_error(exc, field) from exc
