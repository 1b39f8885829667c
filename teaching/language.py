"""The condition language applied to a space: its compiled concepts, and errors as API errors.

Compiled concepts are cached by content (the schema and every live definition), so a cached
entry can never be stale, whatever transaction rolled back.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from threading import Lock

import networkx as nx

from mola.engine.language import Condition, ConditionError, compile_condition, referenced_names
from mola.engine.schema import Schema
from mola.errors import InvalidInput
from teaching.models import LIVE_STATUSES, Concept, Space

_CACHE_SIZE = 64
_cache: OrderedDict[tuple, dict[str, Condition]] = OrderedDict()
_cache_lock = Lock()


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


def space_concepts(space: Space) -> dict[str, Condition]:
    definitions = live_concept_definitions(space)
    key = (repr(space.features), tuple(sorted(definitions.items())))
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    compiled = compile_concepts(space.schema, definitions)
    with _cache_lock:
        _cache[key] = compiled
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return compiled


def compile_in_space(
    text: str, *, space: Space, field: str, concepts: Mapping[str, Condition] | None = None
) -> Condition:
    """Compile a rule condition or concept definition, or raise a 400 naming ``field``."""
    try:
        return compile_condition(
            text, space.schema, space_concepts(space) if concepts is None else concepts
        )
    except ConditionError as exc:
        raise condition_error(exc, field) from exc
