"""compile_condition: text → a checked, evaluable Condition with its exact region."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mola.engine.language import nodes
from mola.engine.language.checker import Checker
from mola.engine.language.errors import ConditionError
from mola.engine.language.evaluator import Memo, evaluate_tree
from mola.engine.language.intervals import Interval
from mola.engine.language.nodes import Checked
from mola.engine.language.parser import parse
from mola.engine.language.regions import MAX_BOXES as _MAX_BOXES
from mola.engine.language.regions import Box, Domains, Region, schema_domains
from mola.engine.language.text_region import TextConstraint
from mola.engine.schema import Schema
from mola.engine.table import Table, table_from_rows


@dataclass(frozen=True)
class Condition:
    """A compiled condition: immutable, safe to share between threads and requests."""

    text: str
    features: frozenset[str]  # used directly or through concepts
    concepts: frozenset[str]  # referenced directly
    region: Region = field(repr=False)
    schema: Schema = field(repr=False, compare=False)
    tree: Checked = field(repr=False, compare=False)
    concept_conditions: Mapping[str, Condition] = field(repr=False, compare=False)

    def evaluate(self, table: Table) -> np.ndarray:
        """Boolean array: which rows of ``table`` (built for the same schema) satisfy it."""
        return self.evaluate_with_memo(table, {})

    def evaluate_with_memo(self, table: Table, memo: Memo) -> np.ndarray:
        """``evaluate`` sharing concept results in ``memo`` (one memo per table)."""
        return evaluate_tree(self.tree, table, self.schema, self.concept_conditions, memo)

    def evaluate_rows(self, rows: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """``evaluate`` for rows already accepted by ``validate_row``."""
        return self.evaluate(table_from_rows(self.schema, rows))


def compile_condition(
    text: str, schema: Schema, concepts: Mapping[str, Condition] | None = None
) -> Condition:
    """Parse ``text``, check it against ``schema`` and ``concepts``, build its region.

    ``concepts`` maps a concept's name to its compiled condition (compiled for the same
    schema, in dependency order; see ``referenced_names``). Raises only ConditionError.
    """
    concepts = concepts or {}
    try:
        tree = parse(text)
        checker = Checker(schema, concepts)
        checked = checker.check(tree)
        region = build_region(checked, schema, schema_domains(schema), concepts)
    except ConditionError:
        raise
    except RecursionError:
        raise ConditionError("too_deep", "This condition nests too deeply.") from None
    except Exception as error:  # never let a surprise escape as anything else
        raise ConditionError(
            "invalid_text", f"This condition cannot be compiled ({type(error).__name__})."
        ) from None
    return Condition(
        text=text,
        features=frozenset(checker.features),
        concepts=frozenset(checker.concepts),
        region=region,
        schema=schema,
        tree=checked,
        concept_conditions={name: concepts[name] for name in checker.concepts},
    )


def build_region(
    node: Checked, schema: Schema, domains: Domains, concepts: Mapping[str, Condition]
) -> Region:
    """The exact region of a checked tree (raises ConditionError ``too_complex``). The same
    walk over node kinds as ``evaluator.evaluate_tree`` on purpose: one gives the region, the
    other the rows, and the property tests hold them to each other."""
    if isinstance(node, nodes.IntervalTest):
        return Region.where(schema, {node.feature: node.interval}, domains)
    if isinstance(node, nodes.NumberSetTest):
        return _points_region(node, schema, domains)
    if isinstance(node, nodes.ChoiceTest):
        return Region.where(schema, {node.feature: node.choices}, domains)
    if isinstance(node, nodes.BoolTest):
        return Region.where(schema, {node.feature: frozenset({node.value})}, domains)
    if isinstance(node, nodes.TextTest):
        constraint = TextConstraint(required=frozenset({node.atom}))
        return Region.where(schema, {node.feature: constraint}, domains)
    if isinstance(node, nodes.MeasureTest):
        count = {node.measure: node.interval}
        return Region.where(schema, {node.feature: TextConstraint(**count)}, domains)
    if isinstance(node, nodes.ConceptRef):
        return concepts[node.name].region
    if isinstance(node, nodes.Const):
        return Region.everything(schema, domains) if node.value else Region.nothing(schema, domains)
    if isinstance(node, nodes.Negation):
        return build_region(node.item, schema, domains, concepts).complement()
    if isinstance(node, nodes.AllOf | nodes.AnyOf):
        regions = [build_region(item, schema, domains, concepts) for item in node.items]
        result = regions[0]
        for region in regions[1:]:
            result = (
                result.intersect(region) if isinstance(node, nodes.AllOf) else result.union(region)
            )
        return result
    raise TypeError(f"Not a checked node: {node!r}")


def _points_region(node: nodes.NumberSetTest, schema: Schema, domains: Domains) -> Region:
    # Distinct points never merge or contain each other: build the boxes directly rather
    # than paying the quadratic clean-up of repeated unions.
    domain = domains[node.feature]
    assert isinstance(domain, Interval)
    boxes = [
        Box({node.feature: Interval.point(value)})
        for value in sorted(node.values)
        if domain.contains_value(value)
    ]
    if len(boxes) > _MAX_BOXES:
        raise ConditionError("too_complex", f"A list holds at most {_MAX_BOXES} numbers.", None)
    if domain.is_point() and boxes:
        return Region.everything(schema, domains)
    return Region(tuple(boxes), schema, domains)
