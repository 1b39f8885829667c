"""A slow, obviously-correct evaluator: walks the *syntax* tree once per row in Python.

It shares nothing with the checker, the vectorised evaluator or the regions, so agreement
between them is evidence, not a tautology. Preconditions: the text type-checks.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from typing import Any

from mola.engine.language import parse
from mola.engine.language.nodes import (
    And,
    Between,
    Bool,
    Compare,
    InList,
    Name,
    Not,
    Number,
    Or,
    String,
    Syntax,
)

OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}


def reference_evaluate(text: str, row: Mapping[str, Any], concept_texts: Mapping[str, str]) -> bool:
    """Whether ``row`` satisfies ``text``; concepts are given by their source text."""
    return _truth(parse(text), row, concept_texts)


def _truth(node: Syntax, row: Mapping[str, Any], concepts: Mapping[str, str]) -> bool:
    if isinstance(node, And):
        return all(_truth(item, row, concepts) for item in node.items)
    if isinstance(node, Or):
        return any(_truth(item, row, concepts) for item in node.items)
    if isinstance(node, Not):
        return not _truth(node.item, row, concepts)
    if isinstance(node, Compare):
        left, right = _value(node.left, row, concepts), _value(node.right, row, concepts)
        return OPERATORS[node.op](left, right)
    if isinstance(node, Between):
        low, high = _value(node.low, row, concepts), _value(node.high, row, concepts)
        return low <= _value(node.subject, row, concepts) <= high
    if isinstance(node, InList):
        value = _value(node.subject, row, concepts)
        found = any(value == _value(item, row, concepts) for item in node.items)
        return found != node.negated
    return bool(_value(node, row, concepts))


def _value(node: Syntax, row: Mapping[str, Any], concepts: Mapping[str, str]) -> Any:
    if isinstance(node, Number | String | Bool):
        return node.value
    assert isinstance(node, Name)
    if node.name in row:  # a feature wins over a concept of the same name
        return row[node.name]
    return reference_evaluate(concepts[node.name], row, concepts)
