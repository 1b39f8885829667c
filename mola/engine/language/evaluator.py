"""Checked tree and Table → one boolean per row, with numpy (no per-row Python)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

from mola.engine.language.nodes import (
    AllOf,
    AnyOf,
    BoolTest,
    Checked,
    ChoiceTest,
    ConceptRef,
    Const,
    IntervalTest,
    MeasureTest,
    Negation,
    NumberSetTest,
    TextTest,
)
from mola.engine.language.text_atoms import atom_mask
from mola.engine.schema import Schema
from mola.engine.table import Table

if TYPE_CHECKING:
    from mola.engine.language.condition import Condition

# Memo of concept results within one evaluate call, keyed by the concept condition's id:
# a concept used by five rules is computed once per table.
Memo = dict[int, np.ndarray]


def evaluate_tree(
    node: Checked,
    table: Table,
    schema: Schema,
    concepts: Mapping[str, Condition],
    memo: Memo,
) -> np.ndarray:
    """Which rows of ``table`` satisfy ``node``.

    Preconditions: ``node`` was checked against ``schema``; ``table`` has a column for every
    feature it uses; ``concepts`` holds every concept it references. The result is a fresh
    array the caller may modify.
    """
    if isinstance(node, IntervalTest):
        return node.interval.mask(table.column(node.feature))
    if isinstance(node, NumberSetTest):
        values = np.fromiter(node.values, dtype=np.float64, count=len(node.values))
        return np.isin(table.column(node.feature), values)
    if isinstance(node, ChoiceTest):
        return _choice_mask(node, table, schema)
    if isinstance(node, BoolTest):
        column = table.column(node.feature)
        return column.astype(bool, copy=True) if node.value else ~column.astype(bool)
    if isinstance(node, TextTest):
        return text_mask(table, node.feature, node.atom)
    if isinstance(node, MeasureTest):
        return node.interval.mask(table.measure(node.feature, node.measure))
    if isinstance(node, ConceptRef):
        concept = concepts[node.name]
        if id(concept) not in memo:
            memo[id(concept)] = concept.evaluate_with_memo(table, memo)
        return memo[id(concept)].copy()
    if isinstance(node, Const):
        return np.full(table.n_rows, node.value, dtype=bool)
    if isinstance(node, Negation):
        return ~evaluate_tree(node.item, table, schema, concepts, memo)
    if isinstance(node, AllOf | AnyOf):
        return _combine(node, table, schema, concepts, memo)
    raise TypeError(f"Not a checked node: {node!r}")


def text_mask(table: Table, feature: str, atom: object) -> np.ndarray:
    """Which texts of column ``feature`` satisfy ``atom``, computed once per table (rules
    that share a phrase share its scan; the caller may modify the copy it gets)."""
    key = (feature, f"atom:{type(atom).__name__}:{atom}")
    mask = table.derived.get(key)
    if mask is None:
        mask = atom_mask(atom, table.column(feature), table.folded(feature))  # type: ignore[arg-type]
        table.derived[key] = mask
    return mask.copy()


def _choice_mask(node: ChoiceTest, table: Table, schema: Schema) -> np.ndarray:
    feature = schema.feature(node.feature)
    choices = feature.choices if feature is not None else ()
    codes = [index for index, choice in enumerate(choices) if choice in node.choices]
    column = table.column(node.feature)
    if len(codes) == 1:
        return column == codes[0]
    return np.isin(column, np.array(codes, dtype=column.dtype))


def _combine(
    node: AllOf | AnyOf,
    table: Table,
    schema: Schema,
    concepts: Mapping[str, Condition],
    memo: Memo,
) -> np.ndarray:
    result = evaluate_tree(node.items[0], table, schema, concepts, memo)
    for item in node.items[1:]:
        mask = evaluate_tree(item, table, schema, concepts, memo)
        # In place: one allocation per clause instead of two.
        if isinstance(node, AllOf):
            result &= mask
        else:
            result |= mask
    return result
