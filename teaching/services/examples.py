"""Examples and counterexamples: feature values with a label, a note and an author."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from mola.engine.table import table_from_rows, validate_row
from mola.errors import InvalidInput, MolaError
from teaching.language import compile_in_space
from teaching.models import LIVE_STATUSES, Action, Example, Rule, Space
from teaching.services.access import check_member
from teaching.services.common import commit_change, editable_teaching, initial_status
from teaching.services.revisions import space_lock
from teaching.services.texts import texts_check

MAX_BATCH = 1000


def example_check(*, space: Space, features: Any, label: str, refutes: Any) -> Rule | None:
    """Validate one example; return the rule it refutes, if it names one.

    A counterexample must lie inside the rule's region and carry another label: otherwise
    it does not refute anything, and saying so would mislead the community.
    """
    if not isinstance(features, dict):
        raise InvalidInput(
            "features is an object of feature values.", code="invalid", field="features"
        )
    schema = space.schema
    problems = [
        {"field": f"features.{p.field}", "code": p.code, "message": p.message}
        for p in validate_row(schema, features)
    ]
    if label not in schema.label_names:
        problems.append(
            {
                "field": "label",
                "code": "unknown_label",
                "message": f"{label!r} is not a label of this space.",
            }
        )
    if problems:
        raise InvalidInput(problems=problems)
    if refutes is None:
        return None
    if isinstance(refutes, bool) or not isinstance(refutes, int) or not 0 < refutes < 2**63:
        raise InvalidInput(
            "refutes is a rule's number, such as 12.", code="invalid", field="refutes"
        )
    rule = Rule.objects.filter(space=space, pk=refutes, status__in=LIVE_STATUSES).first()
    if rule is None:
        raise InvalidInput(
            f"No live rule #{refutes} in this space.", code="unknown_rule", field="refutes"
        )
    condition = compile_in_space(rule.condition, space=space, field="refutes")
    if not bool(condition.evaluate(table_from_rows(schema, [features]))[0]):
        raise InvalidInput(
            f"This example is outside rule #{rule.pk}'s region ({rule.condition}), "
            "so it cannot refute it.",
            code="does_not_refute",
            field="refutes",
        )
    if rule.label == label:
        raise InvalidInput(
            f"Rule #{rule.pk} says {label!r} too; a counterexample needs another label.",
            code="does_not_refute",
            field="label",
        )
    return rule


def _new_example(space: Space, user, status: str, data: dict[str, Any]) -> Example:
    texts_check(label=data.get("label"), note=data.get("note"))
    rule = example_check(
        space=space, features=data["features"], label=data["label"], refutes=data.get("refutes")
    )
    return Example(
        space=space,
        author=user,
        status=status,
        features=data["features"],
        label=data["label"],
        note=data.get("note", ""),
        refutes=rule,
        evaluation=data.get("evaluation", False),
    )


def example_create(*, space: Space, user, **data: Any) -> tuple[Example, int]:
    examples, revision = examples_create(space=space, user=user, items=[data], batch=False)
    return examples[0], revision


def examples_create(
    *, space: Space, user, items: list[dict[str, Any]], batch: bool = True
) -> tuple[list[Example], int]:
    """Create examples all or nothing: every item is checked before any is written."""
    if batch and not 1 <= len(items) <= MAX_BATCH:
        raise InvalidInput(
            f"A batch holds 1 to {MAX_BATCH} examples.", code="batch_size", field="examples"
        )
    with transaction.atomic():
        space = space_lock(space_id=space.pk)
        membership = check_member(space=space, user=user)
        status = initial_status(space=space, membership=membership)
        examples, problems = [], []
        for index, data in enumerate(items):
            try:
                examples.append(_new_example(space, user, status, data))
            except MolaError as exc:
                problems.extend(
                    exc.prefixed(f"examples.{index}").problems if batch else exc.problems
                )
        if problems:
            raise InvalidInput(problems=problems)
        for example in examples:
            example.save()
        revision = commit_change(space=space, teachings=examples, action=Action.CREATE, author=user)
    return examples, revision


def example_update(*, space: Space, user, example_id: int, **changes: Any) -> tuple[Example, int]:
    texts_check(label=changes.get("label"), note=changes.get("note"))
    with transaction.atomic():
        space, example = editable_teaching(
            space=space, kind="example", teaching_id=example_id, user=user
        )
        merged = {
            "features": example.features,
            "label": example.label,
            "note": example.note,
            "refutes": example.refutes_id,
            "evaluation": example.evaluation,
            **changes,
        }
        rule = example_check(
            space=space,
            features=merged["features"],
            label=merged["label"],
            refutes=merged["refutes"],
        )
        example.features, example.label = merged["features"], merged["label"]
        example.note, example.evaluation, example.refutes = (
            merged["note"],
            merged["evaluation"],
            rule,
        )
        example.save()
        revision = commit_change(space=space, teachings=[example], action=Action.EDIT, author=user)
    return example, revision
