"""Rules: ``WHEN condition THEN label``, with a rationale and an author."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from mola.engine.language import Condition
from mola.errors import InvalidInput
from teaching.language import compile_in_space
from teaching.models import Action, Rule, Space
from teaching.services.access import check_member
from teaching.services.common import commit_change, editable_teaching, initial_status
from teaching.services.revisions import space_lock
from teaching.services.texts import texts_check


def rule_check(*, space: Space, condition: str, label: str) -> Condition:
    """Validate a rule's condition and label; return the compiled condition."""
    if label not in space.schema.label_names:
        raise InvalidInput(
            f"{label!r} is not a label of this space.", code="unknown_label", field="label"
        )
    return compile_in_space(condition, space=space, field="condition")


def rule_create(
    *, space: Space, user, condition: str, label: str, rationale: str = ""
) -> tuple[Rule, int]:
    texts_check(condition=condition, label=label, rationale=rationale)
    with transaction.atomic():
        space = space_lock(space_id=space.pk)
        membership = check_member(space=space, user=user)
        rule_check(space=space, condition=condition, label=label)
        rule = Rule.objects.create(
            space=space,
            author=user,
            condition=condition,
            label=label,
            rationale=rationale,
            status=initial_status(space=space, membership=membership),
        )
        revision = commit_change(space=space, teachings=[rule], action=Action.CREATE, author=user)
    return rule, revision


def rule_update(*, space: Space, user, rule_id: int, **changes: Any) -> tuple[Rule, int]:
    texts_check(**{k: changes.get(k) for k in ("condition", "label", "rationale")})
    with transaction.atomic():
        space, rule = editable_teaching(space=space, kind="rule", teaching_id=rule_id, user=user)
        condition = changes.get("condition", rule.condition)
        label = changes.get("label", rule.label)
        rule_check(space=space, condition=condition, label=label)
        rule.condition, rule.label = condition, label
        rule.rationale = changes.get("rationale", rule.rationale)
        rule.save()
        revision = commit_change(space=space, teachings=[rule], action=Action.EDIT, author=user)
    return rule, revision
