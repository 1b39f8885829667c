"""Syntax tree → checked tree: resolve names against the schema and concepts, check types.

Features and concepts share one namespace. When a feature and a concept have the same name
the feature wins: the schema is the space's ground truth and a concept must not be able to
silently change what an existing feature name means in every other condition.

The errors it raises are worded in check_errors.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from mola.engine.language.check_errors import (
    LITERAL_WORDS,
    bad_comparison,
    bad_operator,
    nearest,
    type_mismatch,
    unknown_name,
    unquoted_choice,
)
from mola.engine.language.errors import ConditionError
from mola.engine.language.intervals import INF, Interval, format_number
from mola.engine.language.nodes import (
    AllOf,
    And,
    AnyOf,
    Between,
    Bool,
    BoolTest,
    Checked,
    ChoiceTest,
    Compare,
    ConceptRef,
    Const,
    Contains,
    InList,
    IntervalTest,
    Matches,
    Measure,
    MeasureTest,
    Name,
    Negation,
    Not,
    Number,
    NumberSetTest,
    Operand,
    Or,
    String,
    Syntax,
    TextTest,
)
from mola.engine.language.text_atoms import pattern, phrase, substring
from mola.engine.schema import Feature, Schema

if TYPE_CHECKING:
    from mola.engine.language.condition import Condition

# ``5 < x`` means ``x > 5``.
FLIPPED = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}


class Checker:
    """Checks one syntax tree; afterwards ``features`` and ``concepts`` hold what it used.

    Preconditions: ``concepts`` maps names to conditions compiled for the same schema.
    """

    def __init__(self, schema: Schema, concepts: Mapping[str, Condition]) -> None:
        self.schema = schema
        self.concept_conditions = concepts
        self.features: set[str] = set()
        self.concepts: set[str] = set()

    def check(self, node: Syntax) -> Checked:
        if isinstance(node, And):
            return AllOf(tuple(self.check(item) for item in node.items))
        if isinstance(node, Or):
            return AnyOf(tuple(self.check(item) for item in node.items))
        if isinstance(node, Not):
            return Negation(self.check(node.item))
        if isinstance(node, Compare):
            return self._compare(node)
        if isinstance(node, Between):
            return self._between(node)
        if isinstance(node, InList):
            return self._in_list(node)
        if isinstance(node, Contains):
            return self._contains(node)
        if isinstance(node, Matches):
            return TextTest(
                self._text_feature(node.subject, "matches").name,
                pattern(node.literal, node.position),
            )
        return self._bare(node)

    # --- text ----------------------------------------------------------------------------

    def _text_feature(self, subject: Operand, words: str) -> Feature:
        if not isinstance(subject, Name):
            raise ConditionError(
                "bad_comparison",
                f"{words} tests a text feature, e.g. comment {words} ...",
                subject.position,
            )
        target = self._known(subject)
        if not isinstance(target, Feature) or target.kind != "text":
            raise bad_operator(
                subject.name,
                _kind(target),
                "==, <, in ...; " + words + " is for text features",
                subject.position,
            )
        return target

    def _contains(self, node: Contains) -> Checked:
        words = "contains_text" if node.mode == "text" else "contains"
        feature = self._text_feature(node.subject, words)
        make = substring if node.mode == "text" else phrase
        tests = []
        for item in node.items:
            if not isinstance(item, String):
                raise type_mismatch(feature.name, 'a text in double quotes ("...")', item)
            tests.append(TextTest(feature.name, make(item.value, item.position)))
        if node.mode in ("phrase", "text"):
            return tests[0]
        if not tests:
            return Const(node.mode == "all")  # all of nothing holds, any of nothing never
        unique = tuple(dict.fromkeys(tests))
        if len(unique) == 1:
            return unique[0]
        return AnyOf(unique) if node.mode == "any" else AllOf(unique)

    def _measure(self, node: Measure) -> Feature:
        target = self._known(node.subject)
        if not isinstance(target, Feature) or target.kind != "text":
            raise ConditionError(
                "type_mismatch",
                f"{node.function}() counts in a text feature; {node.subject.name} is a "
                f"{_kind(target)}.",
                node.subject.position,
            )
        return target

    # --- names ---------------------------------------------------------------------------

    def _resolve(self, name: Name) -> Feature | Condition | None:
        # Never look a name up anywhere but these two mappings; dunder-ish names are simply
        # unknown, whatever a mapping may contain.
        if name.name.startswith("_") or "__" in name.name:
            return None
        feature = self.schema.feature(name.name)
        if feature is not None:
            self.features.add(feature.name)
            return feature
        concept = self.concept_conditions.get(name.name)
        if concept is not None:
            self.concepts.add(name.name)
            self.features.update(concept.features)
        return concept

    def _known(self, name: Name) -> Feature | Condition:
        target = self._resolve(name)
        if target is None:
            raise self._unknown(name)
        return target

    def _unknown(self, name: Name) -> ConditionError:
        return unknown_name(name, [*self.schema.feature_names, *self.concept_conditions])

    def _bare(self, node: Operand) -> Checked:
        if isinstance(node, Bool):
            return Const(node.value)
        if not isinstance(node, Name):
            raise ConditionError(
                "not_a_predicate",
                f"{LITERAL_WORDS[type(node)].capitalize()} alone is not a condition.",
                node.position,
            )
        target = self._known(node)
        if not isinstance(target, Feature):
            return ConceptRef(node.name)
        if target.kind == "boolean":
            return BoolTest(target.name, True)
        if target.kind == "text":
            example = f'{target.name} contains "a word"'
        elif target.choices:
            example = f'{target.name} == "{target.choices[0]}"'
        else:
            example = f"{target.name} > 0"
        raise ConditionError(
            "not_a_predicate",
            f"{target.name} is a {target.kind}, not true/false: compare it, e.g. {example}.",
            node.position,
        )

    # --- comparisons ---------------------------------------------------------------------

    def _compare(self, node: Compare) -> Checked:
        left, op, right = node.left, node.op, node.right
        if isinstance(left, Name) and isinstance(right, Name):
            self._two_names(left, right, node.position)
        if not isinstance(left, Name | Measure):
            if not isinstance(right, Name | Measure):
                raise bad_comparison(node.position)
            left, op, right = right, FLIPPED[op], left
        if isinstance(left, Measure):
            feature = self._measure(left)
            number = self._number_of(f"{left.function}({feature.name})", right)
            return _measure_test(_number_compare(feature, op, number), left.function)
        target = self._known(left)
        if not isinstance(target, Feature) or target.kind == "boolean":
            return self._truth_compare(left, target, op, right, node.position)
        if target.kind == "number":
            return _number_compare(target, op, self._number(target, right))
        if target.kind == "text":
            raise bad_operator(
                target.name,
                "text",
                'contains "...", contains any [...], contains all [...], contains_text "..." '
                f"or matches /.../ (and words({target.name}) or length({target.name}) to count)",
                node.position,
            )
        return self._choice_compare(target, op, right, node.position)

    def _two_names(self, left: Name, right: Name, position: int) -> None:
        """``a == b`` with two names is always an error; say the most useful one."""
        left_target, right_target = self._resolve(left), self._resolve(right)
        for subject, value in ((left_target, right), (right_target, left)):
            if isinstance(subject, Feature) and value.name in subject.choices:
                raise unquoted_choice(value)
        if left_target is None:
            raise self._unknown(left)
        if right_target is None:
            raise self._unknown(right)
        raise bad_comparison(position)

    def _truth_compare(
        self, subject: Name, target: Feature | Condition, op: str, value: Operand, position: int
    ) -> Checked:
        if not isinstance(value, Bool):
            raise type_mismatch(subject.name, "true or false", value)
        if op not in ("==", "!="):
            raise bad_operator(subject.name, "true/false", "== or !=", position)
        return self._truth_test(subject.name, target, value.value == (op == "=="))

    def _truth_test(self, name: str, target: Feature | Condition, value: bool) -> Checked:
        if isinstance(target, Feature):
            return BoolTest(name, value)
        return ConceptRef(name) if value else Negation(ConceptRef(name))

    def _number(self, feature: Feature, value: Operand) -> float:
        return self._number_of(feature.name, value)

    def _number_of(self, name: str, value: Operand) -> float:
        if not isinstance(value, Number):
            raise type_mismatch(name, "a number", value)
        return value.value

    def _choice(self, feature: Feature, value: Operand) -> str:
        if isinstance(value, Name) and value.name in feature.choices:
            raise unquoted_choice(value)
        if not isinstance(value, String):
            raise type_mismatch(feature.name, "one of its choices in double quotes", value)
        if value.value not in feature.choices:
            suggestion = nearest(value.value, feature.choices)
            message = f"{value.value[:64]!r} is not a choice of {feature.name}."
            message += f" Did you mean {suggestion!r}?" if suggestion else ""
            message += f" Choices: {', '.join(feature.choices[:20])}."
            raise ConditionError("unknown_choice", message, value.position, suggestion)
        return value.value

    def _choice_compare(self, feature: Feature, op: str, value: Operand, position: int) -> Checked:
        if op not in ("==", "!="):
            raise bad_operator(feature.name, "category", "==, !=, in or not in", position)
        test = ChoiceTest(feature.name, frozenset({self._choice(feature, value)}))
        return test if op == "==" else Negation(test)

    def _between(self, node: Between) -> Checked:
        if isinstance(node.subject, Measure):
            feature = self._measure(node.subject)
            name = f"{node.subject.function}({feature.name})"
            low, high = self._number_of(name, node.low), self._number_of(name, node.high)
            _check_range(low, high, node)
            return MeasureTest(feature.name, node.subject.function, Interval(low, high, True, True))
        if not isinstance(node.subject, Name):
            raise bad_comparison(node.subject.position)
        target = self._known(node.subject)
        if not isinstance(target, Feature) or target.kind != "number":
            raise bad_operator(node.subject.name, _kind(target), "a number feature", node.position)
        low, high = self._number(target, node.low), self._number(target, node.high)
        _check_range(low, high, node)
        return IntervalTest(target.name, Interval(low, high, True, True))

    def _in_list(self, node: InList) -> Checked:
        if isinstance(node.subject, Measure):
            feature = self._measure(node.subject)
            name = f"{node.subject.function}({feature.name})"
            values = sorted({self._number_of(name, item) for item in node.items})
            points = tuple(
                MeasureTest(feature.name, node.subject.function, Interval.point(value))
                for value in values
            )
            test: Checked = (
                AnyOf(points) if len(points) > 1 else (points[0] if points else Const(False))
            )
            return Negation(test) if node.negated else test
        if not isinstance(node.subject, Name):
            raise bad_comparison(node.subject.position)
        target = self._known(node.subject)
        if isinstance(target, Feature) and target.kind == "number":
            test: Checked = NumberSetTest(
                target.name, frozenset(self._number(target, item) for item in node.items)
            )
        elif isinstance(target, Feature) and target.kind == "category":
            choices = frozenset(self._choice(target, item) for item in node.items)
            test = ChoiceTest(target.name, choices)
        else:
            test = self._truth_in(node.subject, target, node.items)
        return Negation(test) if node.negated else test

    def _truth_in(
        self, subject: Name, target: Feature | Condition, items: tuple[Operand, ...]
    ) -> Checked:
        values = set()
        for item in items:
            if not isinstance(item, Bool):
                raise type_mismatch(subject.name, "true or false", item)
            values.add(item.value)
        if len(values) != 1:
            return Const(bool(values))  # [true, false] always holds, [] never
        return self._truth_test(subject.name, target, values.pop())


def _check_range(low: float, high: float, node: Between) -> None:
    if low > high:
        raise ConditionError(
            "empty_range",
            f"between {format_number(low)} and {format_number(high)} holds no value: "
            "write the smaller number first.",
            node.low.position,
        )


def _measure_test(test: Checked, measure: str) -> Checked:
    """An interval test of a text feature's count as a MeasureTest (``!=`` stays negated)."""
    if isinstance(test, Negation):
        return Negation(_measure_test(test.item, measure))
    assert isinstance(test, IntervalTest)
    return MeasureTest(test.feature, measure, test.interval)


def _kind(target: Feature | Condition) -> str:
    return target.kind if isinstance(target, Feature) else "concept"


def _number_compare(feature: Feature, op: str, value: float) -> Checked:
    if op == "!=":
        return Negation(IntervalTest(feature.name, Interval.point(value)))
    interval = {
        "<": Interval(-INF, value, False, False),
        "<=": Interval(-INF, value, False, True),
        ">": Interval(value, INF, False, False),
        ">=": Interval(value, INF, True, False),
        "==": Interval.point(value),
    }[op]
    return IntervalTest(feature.name, interval)
