"""Text → syntax tree, with the limits checked first and every failure a ConditionError.

The grammar lives in ``grammar.lark`` and is compiled once per process into an LALR(1)
parser whose callbacks build the tree directly (no intermediate parse tree), which keeps a
typical parse well under a millisecond.
"""

from __future__ import annotations

import functools
import json
import math
from pathlib import Path

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedInput

from mola.engine.language.errors import MAX_DEPTH, MAX_NUMBER, MAX_TEXT_LENGTH, ConditionError
from mola.engine.language.nodes import (
    And,
    Between,
    Bool,
    Compare,
    Contains,
    InList,
    Matches,
    Measure,
    Name,
    Not,
    Number,
    Operand,
    Or,
    String,
    Syntax,
    syntax_children,
)
from mola.engine.language.syntax_errors import describe_lark_error

GRAMMAR_PATH = Path(__file__).with_name("grammar.lark")


def parse(text: str) -> Syntax:
    """Parse condition ``text`` into a syntax tree.

    Raises only ConditionError: ``invalid_text`` (not a str), ``too_long``, ``too_deep``,
    ``syntax_error``, ``bad_number``, ``bad_string``.
    """
    if not isinstance(text, str):
        raise ConditionError("invalid_text", "A condition is a text.")
    if len(text) > MAX_TEXT_LENGTH:
        raise ConditionError(
            "too_long", f"A condition has at most {MAX_TEXT_LENGTH} characters.", MAX_TEXT_LENGTH
        )
    _check_bracket_depth(text)
    try:
        tree = _parser().parse(text)
    except ConditionError:
        raise
    except UnexpectedInput as error:
        raise describe_lark_error(error, text) from None
    except RecursionError:
        raise _too_deep(0) from None
    except Exception as error:  # LarkError, UnicodeError, ...: never anything but ours
        message = f"The condition cannot be read ({type(error).__name__})."
        raise ConditionError("syntax_error", message) from None
    _check_tree_depth(tree)
    return tree


def referenced_names(text: str) -> frozenset[str]:
    """Every feature or concept name ``text`` mentions (raises ConditionError on bad syntax)."""
    names: set[str] = set()
    stack: list[Syntax] = [parse(text)]
    while stack:
        node = stack.pop()
        if isinstance(node, Name):
            names.add(node.name)
        stack.extend(syntax_children(node))
    return frozenset(names)


@functools.cache
def _parser() -> Lark:
    return Lark(
        GRAMMAR_PATH.read_text(encoding="utf-8"),
        parser="lalr",
        lexer="basic",
        transformer=_TreeBuilder(),
        propagate_positions=False,
        maybe_placeholders=False,
    )


def _check_bracket_depth(text: str) -> None:
    """Refuse deep nesting before the parser sees it (cheap: most texts skip the scan)."""
    if text.count("(") + text.count("[") <= MAX_DEPTH:
        return
    depth = 0
    in_string = in_comment = escaped = False
    for position, char in enumerate(text):
        if in_comment:
            in_comment = char != "\n"
        elif in_string:
            in_string = escaped or char != '"'
            escaped = not escaped and char == "\\"
        elif char == "#":
            in_comment = True
        elif char == '"':
            in_string = True
        elif char in "([":
            depth += 1
            if depth > MAX_DEPTH:
                raise _too_deep(position)
        elif char in ")]":
            depth = max(depth - 1, 0)


def _check_tree_depth(tree: Syntax) -> None:
    """Refuse more than MAX_DEPTH nested and/or/not, so later recursive walks stay shallow."""
    stack: list[tuple[Syntax, int]] = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, And | Or | Not):
            depth += 1
            if depth > MAX_DEPTH:
                raise _too_deep(node.position)
            stack.extend((child, depth) for child in syntax_children(node))


def _too_deep(position: int) -> ConditionError:
    return ConditionError(
        "too_deep", f"A condition nests at most {MAX_DEPTH} levels deep.", position
    )


@v_args(inline=True)
class _TreeBuilder(Transformer):
    """Parser callbacks: one per grammar alias, building syntax nodes from tokens."""

    def name(self, token: Token) -> Name:
        return Name(str(token), token.start_pos)

    def number(self, token: Token) -> Number:
        return Number(_number_value(token), str(token), token.start_pos)

    def string(self, token: Token) -> String:
        return String(_string_value(token), token.start_pos)

    def true(self, token: Token) -> Bool:
        return Bool(True, token.start_pos)

    def false(self, token: Token) -> Bool:
        return Bool(False, token.start_pos)

    def compare(self, left: Operand, op: Token, right: Operand) -> Compare:
        return Compare(left, str(op), right, op.start_pos)

    def between(
        self, subject: Operand, keyword: Token, low: Operand, _and: Token, high: Operand
    ) -> Between:
        return Between(subject, low, high, keyword.start_pos)

    def in_list(self, subject: Operand, keyword: Token, items: tuple[Operand, ...]) -> InList:
        return InList(subject, items, False, keyword.start_pos)

    def not_in_list(
        self, subject: Operand, keyword: Token, _in: Token, items: tuple[Operand, ...]
    ) -> InList:
        return InList(subject, items, True, keyword.start_pos)

    def contains(self, subject: Operand, keyword: Token, item: Token) -> Contains:
        return Contains(subject, "phrase", (self.string(item),), keyword.start_pos)

    def contains_any(
        self, subject: Operand, keyword: Token, _any: Token, items: tuple[Operand, ...]
    ) -> Contains:
        return Contains(subject, "any", items, keyword.start_pos)

    def contains_all(
        self, subject: Operand, keyword: Token, _all: Token, items: tuple[Operand, ...]
    ) -> Contains:
        return Contains(subject, "all", items, keyword.start_pos)

    def contains_text(self, subject: Operand, keyword: Token, item: Token) -> Contains:
        return Contains(subject, "text", (self.string(item),), keyword.start_pos)

    def matches(self, subject: Operand, _keyword: Token, literal: Token) -> Matches:
        return Matches(subject, str(literal), literal.start_pos)

    def measure(self, function: Token, name: Token, _close: Token) -> Measure:
        word = str(function).split("(")[0].strip()
        return Measure(word, Name(str(name), name.start_pos), function.start_pos)

    def list(self, *children: Token | Operand) -> tuple[Operand, ...]:
        return tuple(child for child in children if not isinstance(child, Token))

    def group(self, _open: Token, inner: Syntax, _close: Token) -> Syntax:
        return inner

    def and_(self, left: Syntax, keyword: Token, right: Syntax) -> And:
        # Flatten chains (a and b and c) so the tree's depth counts real nesting only.
        if isinstance(left, And):
            return And((*left.items, right), left.position)
        return And((left, right), keyword.start_pos)

    def or_(self, left: Syntax, keyword: Token, right: Syntax) -> Or:
        if isinstance(left, Or):
            return Or((*left.items, right), left.position)
        return Or((left, right), keyword.start_pos)

    def not_(self, keyword: Token, item: Syntax) -> Not:
        return Not(item, keyword.start_pos)


def _number_value(token: Token) -> float:
    value = float(token)  # the token's regex only matches valid decimal literals
    if not math.isfinite(value) or abs(value) > MAX_NUMBER:
        raise ConditionError(
            "bad_number",
            f"{str(token)[:40]} is too large: numbers are at most {MAX_NUMBER:.0e} in size.",
            token.start_pos,
        )
    return value


def _string_value(token: Token) -> str:
    # A JSON string literal has exactly our escapes (\" \\ \n \t \uXXXX ...).
    try:
        return json.loads(str(token), strict=False)
    except (ValueError, RecursionError):
        raise ConditionError(
            "bad_string",
            'This text has an escape that is not allowed (use \\" \\\\ \\n \\t or \\uXXXX).',
            token.start_pos,
        ) from None
