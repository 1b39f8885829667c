"""What a rule would do if saved: the teaching examples it covers, agreeing or not.

The examples are listed here (the page shows them); which rules the new one would
contradict comes from the consensus index, the same answer as ``POST /rules/preview``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from consensus.preview import contradictions_if_saved
from frontend.highlights import marked_texts, text_features
from mola.engine.language import ConditionError, compile_condition
from mola.engine.table import table_from_rows
from teaching.language import compile_in_space, space_concepts
from teaching.models import LIVE_STATUSES, Example, Rule, Space

SHOWN = 12  # examples listed per group; the counts are always complete


@dataclass
class RulePreview:
    condition: str
    label: str
    covered: int = 0
    agreeing: list[Example] = field(default_factory=list)
    disagreeing: list[Example] = field(default_factory=list)
    examples_total: int = 0
    overlapping_rules: list[Rule] = field(default_factory=list)

    @property
    def agreeing_count(self) -> int:
        return len(self.agreeing)

    @property
    def disagreeing_count(self) -> int:
        return len(self.disagreeing)

    @property
    def shown_agreeing(self) -> list[Example]:
        return self.agreeing[:SHOWN]

    @property
    def shown_disagreeing(self) -> list[Example]:
        return self.disagreeing[:SHOWN]


def _live_examples(space: Space) -> list[Example]:
    return list(
        Example.objects.filter(space=space, status__in=LIVE_STATUSES)
        .select_related("author")
        .order_by("id")
    )


def rule_preview(*, space: Space, condition: str, label: str) -> RulePreview:
    """Raises ``InvalidInput`` (field ``condition``) when the condition does not compile."""
    compiled = compile_in_space(condition, space=space, field="condition")
    examples = _live_examples(space)
    preview = RulePreview(condition=condition, label=label, examples_total=len(examples))
    if examples:
        mask = compiled.evaluate(table_from_rows(space.schema, [e.features for e in examples]))
        for example, inside in zip(examples, mask, strict=True):
            if inside:
                (preview.agreeing if example.label == label else preview.disagreeing).append(
                    example
                )
    preview.covered = len(preview.agreeing) + len(preview.disagreeing)
    if text_features(space.schema):  # the words the rule matched, on the examples shown
        for example in [*preview.shown_agreeing, *preview.shown_disagreeing]:
            example.marked = marked_texts(space.schema, [compiled], example.features)
    preview.overlapping_rules = _overlapping_rules(space, compiled, label)
    return preview


def _overlapping_rules(space: Space, compiled, label: str) -> list[Rule]:
    """Live rules the new one would contradict, as the consensus index finds them."""
    found = contradictions_if_saved(
        space=space, region=compiled.region, label=label, condition=compiled.text
    )
    ids = {t["id"] for c in found for t in c["teachings"] if t["type"] == "rule"}
    return list(Rule.objects.filter(pk__in=ids).select_related("author").order_by("id"))


def rule_coverage(*, space: Space, rules: list[Rule]) -> dict[int, tuple[int, int]]:
    """``{rule id: (examples covered, of which agreeing)}`` over the live examples."""
    examples = _live_examples(space)
    if not examples or not rules:
        return {}
    table = table_from_rows(space.schema, [e.features for e in examples])
    labels = np.array([e.label for e in examples], dtype=object)
    concepts = space_concepts(space)
    coverage: dict[int, tuple[int, int]] = {}
    for rule in rules:
        try:
            mask = compile_condition(rule.condition, space.schema, concepts).evaluate(table)
        except ConditionError:
            continue
        coverage[rule.pk] = (int(mask.sum()), int((mask & (labels == rule.label)).sum()))
    return coverage
