"""Create and update a teaching of any kind: the one dispatch by kind the API and the pages
share (each kind's own service does the work)."""

from __future__ import annotations

from typing import Any

from teaching.models import Space, Teaching
from teaching.services import concepts, examples, rules


def teaching_create(*, space: Space, user, kind: str, **data: Any) -> tuple[Teaching, int]:
    """The new teaching and the space's teaching revision after it."""
    if kind == "concept":
        return concepts.concept_create(space=space, user=user, **data)
    if kind == "rule":
        return rules.rule_create(space=space, user=user, **data)
    return examples.example_create(space=space, user=user, **data)


def teaching_update(
    *, space: Space, user, kind: str, teaching_id: int, **changes: Any
) -> tuple[Teaching, int, dict[str, Any]]:
    """The updated teaching, the space's teaching revision after it, and what else the
    answer says (a concept's ``dependents``: the live teachings its new definition
    reaches)."""
    if kind == "concept":
        concept, revision, dependents = concepts.concept_update(
            space=space, user=user, concept_id=teaching_id, **changes
        )
        return concept, revision, {"dependents": dependents}
    if kind == "rule":
        rule, revision = rules.rule_update(space=space, user=user, rule_id=teaching_id, **changes)
        return rule, revision, {}
    example, revision = examples.example_update(
        space=space, user=user, example_id=teaching_id, **changes
    )
    return example, revision, {}
