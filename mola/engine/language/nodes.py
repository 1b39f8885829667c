"""The two trees of a condition, as small frozen dataclasses.

The *syntax tree* is what the parser builds: names and literals exactly as written, each
with the 0-based character ``position`` of its first token. The *checked tree* is what the
type checker makes of it against one schema: every name resolved to a feature or a concept,
every comparison turned into a typed test (``x > 60`` becomes an interval test), so the
evaluator and the region builder never re-interpret the text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

from mola.engine.language.intervals import Interval
from mola.engine.language.text_atoms import Atom

# --- syntax tree -------------------------------------------------------------------------


@dataclass(frozen=True)
class Name:
    name: str
    position: int


@dataclass(frozen=True)
class Number:
    value: float
    text: str  # as written, for messages
    position: int


@dataclass(frozen=True)
class String:
    value: str
    position: int


@dataclass(frozen=True)
class Bool:
    value: bool
    position: int


@dataclass(frozen=True)
class Measure:
    """``words(comment)`` or ``length(comment)``: a number read from a text feature."""

    function: str  # "words" | "length"
    subject: Name
    position: int


Operand = Union[Name, Number, String, Bool, Measure]  # noqa: UP007 (a runtime alias)
Literal = Union[Number, String, Bool]  # noqa: UP007


@dataclass(frozen=True)
class Compare:
    """``left op right`` with op one of < <= > >= == != (either side may be the literal)."""

    left: Operand
    op: str
    right: Operand
    position: int  # of the operator, where a type error is most naturally pointed at


@dataclass(frozen=True)
class Between:
    subject: Operand
    low: Operand
    high: Operand
    position: int  # of the keyword ``between``


@dataclass(frozen=True)
class InList:
    subject: Operand
    items: tuple[Operand, ...]
    negated: bool  # ``not in``
    position: int  # of ``in`` / ``not``


@dataclass(frozen=True)
class Contains:
    """``x contains "a"`` (mode phrase), ``contains any [...]``, ``contains all [...]``,
    ``contains_text "a"`` (mode text)."""

    subject: Operand
    mode: str  # "phrase" | "any" | "all" | "text"
    items: tuple[Operand, ...]
    position: int  # of the keyword


@dataclass(frozen=True)
class Matches:
    subject: Operand
    literal: str  # /source/flags as written
    position: int  # of the pattern literal


@dataclass(frozen=True)
class And:
    items: tuple[Syntax, ...]
    position: int


@dataclass(frozen=True)
class Or:
    items: tuple[Syntax, ...]
    position: int


@dataclass(frozen=True)
class Not:
    item: Syntax
    position: int


# A bare operand is a predicate (``fatigued``) or a constant (``true``); the checker refuses
# bare numbers and strings.
Syntax = Union[Operand, Compare, Between, InList, Contains, Matches, And, Or, Not]  # noqa: UP007


def syntax_children(node: Syntax) -> tuple[Syntax, ...]:
    """The direct sub-conditions and operands of ``node`` (for walks without recursion)."""
    if isinstance(node, And | Or):
        return node.items
    if isinstance(node, Not):
        return (node.item,)
    if isinstance(node, Compare):
        return (node.left, node.right)
    if isinstance(node, Between):
        return (node.subject, node.low, node.high)
    if isinstance(node, InList | Contains):
        return (node.subject, *node.items)
    if isinstance(node, Matches):
        return (node.subject,)
    if isinstance(node, Measure):
        return (node.subject,)
    return ()


# --- checked tree ------------------------------------------------------------------------


@dataclass(frozen=True)
class IntervalTest:
    """A number feature lies in ``interval`` (covers < <= > >= == and between)."""

    feature: str
    interval: Interval


@dataclass(frozen=True)
class NumberSetTest:
    """A number feature equals one of ``values`` (``x in [1, 2]``)."""

    feature: str
    values: frozenset[float]


@dataclass(frozen=True)
class ChoiceTest:
    """A category feature is one of ``choices`` (all valid choices of the feature)."""

    feature: str
    choices: frozenset[str]


@dataclass(frozen=True)
class BoolTest:
    feature: str
    value: bool


@dataclass(frozen=True)
class TextTest:
    """A text feature satisfies one atom (a phrase, a substring or a pattern)."""

    feature: str
    atom: Atom


@dataclass(frozen=True)
class MeasureTest:
    """``words(feature)`` or ``length(feature)`` lies in ``interval``."""

    feature: str
    measure: str  # "words" | "length"
    interval: Interval


@dataclass(frozen=True)
class ConceptRef:
    name: str


@dataclass(frozen=True)
class Const:
    value: bool


@dataclass(frozen=True)
class AllOf:
    items: tuple[Checked, ...]


@dataclass(frozen=True)
class AnyOf:
    items: tuple[Checked, ...]


@dataclass(frozen=True)
class Negation:
    item: Checked


Checked = Union[  # noqa: UP007
    IntervalTest,
    NumberSetTest,
    ChoiceTest,
    BoolTest,
    TextTest,
    MeasureTest,
    ConceptRef,
    Const,
    AllOf,
    AnyOf,
    Negation,
]
