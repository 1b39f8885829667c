"""Concepts: named predicates, the community's shared vocabulary.

The concept graph (concept → concepts it names) must stay acyclic; editing a concept is an
edit of everything that uses it, so the write reports its dependents.
"""

from __future__ import annotations

from typing import Any

import networkx as nx
from django.db import transaction

from mola.engine.language import ConditionError, referenced_names
from mola.engine.schema import NAME_PATTERN, RESERVED_NAMES
from mola.errors import Conflict, InvalidInput
from teaching.language import (
    compile_concepts,
    compile_in_space,
    concept_graph,
    condition_error,
    live_concept_definitions,
)
from teaching.models import LIVE_STATUSES, Action, Concept, Rule, Space
from teaching.services.access import check_member
from teaching.services.common import commit_change, editable_teaching, initial_status
from teaching.services.revisions import space_lock
from teaching.services.texts import texts_check


def _check_name(space: Space, name: str, *, exclude_id: int | None = None) -> None:
    if not NAME_PATTERN.match(name) or name.lower() in RESERVED_NAMES:
        raise InvalidInput(
            "A concept name starts with a letter and has only letters, digits and _.",
            code="invalid_name",
            field="name",
        )
    if space.schema.feature(name) is not None:
        raise InvalidInput(f"{name!r} is a feature of the schema.", code="name_taken", field="name")
    clash = Concept.objects.filter(space=space, name=name, status__in=LIVE_STATUSES)
    if exclude_id is not None:
        clash = clash.exclude(pk=exclude_id)
    if clash.exists():
        raise InvalidInput(f"A concept {name!r} exists already.", code="name_taken", field="name")


def _check_definition(space: Space, name: str, definition: str, *, old_name: str | None) -> None:
    """Refuse a cycle (naming its path), then compile against the other concepts."""
    definitions = live_concept_definitions(space)
    if old_name is not None:
        definitions.pop(old_name, None)
    definitions[name] = definition
    try:
        referenced_names(definition)
    except ConditionError as exc:
        raise condition_error(exc, "definition") from exc
    graph = concept_graph(definitions)
    try:
        cycle = nx.find_cycle(graph, source=name)
    except nx.NetworkXNoCycle:
        cycle = None
    if cycle:
        path = " → ".join([edge[0] for edge in cycle] + [cycle[0][0]])
        raise InvalidInput(
            f"Concepts may not depend on themselves: {path}.",
            code="concept_cycle",
            field="definition",
            cycle=path,
        )
    others = {n: d for n, d in definitions.items() if n != name}
    compile_in_space(
        definition, space=space, field="definition", concepts=compile_concepts(space.schema, others)
    )


def concept_dependents(*, space: Space, name: str) -> list[dict[str, Any]]:
    """Live concepts and rules that use ``name``, directly or through other concepts."""
    graph = concept_graph(live_concept_definitions(space))
    users = nx.ancestors(graph, name) if name in graph else set()
    affected = users | {name}
    dependents: list[dict[str, Any]] = [
        {"type": "concept", "id": pk, "name": concept_name}
        for pk, concept_name in Concept.objects.filter(
            space=space, status__in=LIVE_STATUSES, name__in=users
        ).values_list("pk", "name")
    ]
    for rule_id, condition in Rule.objects.filter(
        space=space, status__in=LIVE_STATUSES
    ).values_list("pk", "condition"):
        try:
            if referenced_names(condition) & affected:
                dependents.append({"type": "rule", "id": rule_id})
        except ConditionError:
            continue
    return dependents


def concept_create(
    *, space: Space, user, name: str, definition: str, description: str = ""
) -> tuple[Concept, int]:
    texts_check(name=name, definition=definition, description=description)
    with transaction.atomic():
        space = space_lock(space_id=space.pk)
        membership = check_member(space=space, user=user)
        _check_name(space, name)
        _check_definition(space, name, definition, old_name=None)
        concept = Concept.objects.create(
            space=space,
            author=user,
            name=name,
            definition=definition,
            description=description,
            status=initial_status(space=space, membership=membership),
        )
        revision = commit_change(
            space=space, teachings=[concept], action=Action.CREATE, author=user
        )
    return concept, revision


def concept_update(
    *, space: Space, user, concept_id: int, **changes: Any
) -> tuple[Concept, int, list[dict[str, Any]]]:
    """Edit a concept; returns it, the new revision and the teachings its edit reaches.

    Renaming a concept that others use is refused: their text names it.
    """
    texts_check(**{k: changes.get(k) for k in ("name", "definition", "description")})
    with transaction.atomic():
        space, concept = editable_teaching(
            space=space, kind="concept", teaching_id=concept_id, user=user
        )
        name = changes.get("name", concept.name)
        definition = changes.get("definition", concept.definition)
        dependents = concept_dependents(space=space, name=concept.name)
        if name != concept.name:
            if dependents:
                raise Conflict(
                    "Other teachings use this concept by name; rename refused.",
                    code="concept_in_use",
                    field="name",
                    teachings=dependents,
                )
            _check_name(space, name, exclude_id=concept.pk)
        _check_definition(space, name, definition, old_name=concept.name)
        concept.name, concept.definition = name, definition
        concept.description = changes.get("description", concept.description)
        concept.save()
        revision = commit_change(space=space, teachings=[concept], action=Action.EDIT, author=user)
    return concept, revision, dependents
