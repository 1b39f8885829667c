"""Hostile and random input: the language must answer every text with a ConditionError or a
Condition, never with another exception, and never by running anything."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mola.engine.language import (
    MAX_TEXT_LENGTH,
    Condition,
    ConditionError,
    compile_condition,
    referenced_names,
)
from mola.engine.schema import Schema

FUZZ_SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
VOCABULARY = [
    "toss_height_cm", "elbow_angle", "serve_type", "fatigued", "high_toss", "unknown",
    "and", "or", "not", "in", "between", "true", "false", "(", ")", "[", "]", ",",
    "<", "<=", ">", ">=", "==", "!=", "=", "0", "60", "-1.5", "1e3", "1e400", ".5",
    '"jump"', '"float"', '"nope"', '"\\u0000"', '"\\x"', "#", "\n", "__class__", ".", "'",
]  # fmt: skip


def compile_or_error(text: object, schema: Schema, concepts: dict) -> Condition | None:
    try:
        return compile_condition(text, schema, concepts)  # type: ignore[arg-type]
    except ConditionError as error:
        assert isinstance(error.code, str) and error.message
        assert error.position is None or 0 <= error.position <= len(text)  # type: ignore[arg-type]
        return None


@FUZZ_SETTINGS
@given(st.text(max_size=200))
def test_arbitrary_text_gives_a_condition_or_a_condition_error(text: str) -> None:
    from tests.engine.conftest import SERVE_FEATURES, SERVE_LABELS

    schema = Schema.from_dicts(SERVE_FEATURES, SERVE_LABELS)
    compile_or_error(text, schema, {})


@FUZZ_SETTINGS
@given(st.lists(st.sampled_from(VOCABULARY), max_size=25))
def test_grammar_shaped_text_gives_a_condition_or_a_condition_error(words: list[str]) -> None:
    from tests.engine.conftest import SERVE_FEATURES, SERVE_LABELS

    schema = Schema.from_dicts(SERVE_FEATURES, SERVE_LABELS)
    high_toss = compile_condition("toss_height_cm > 60", schema)
    text = " ".join(words)
    condition = compile_or_error(text, schema, {"high_toss": high_toss})
    if condition is not None:
        assert condition.features <= set(schema.feature_names)
        condition.region.describe()
    try:
        names = referenced_names(text)
    except ConditionError:
        assert condition is None  # a syntax error cannot compile
    else:
        if condition is not None:
            assert names >= condition.concepts
            assert names >= condition.features - high_toss.features


INJECTIONS = [
    ('__import__("os")', "syntax_error"),
    ('__import__("os").system("true")', "syntax_error"),
    ("x.__class__", "syntax_error"),
    ("().__class__.__bases__", "syntax_error"),
    ("().__class__.__bases__[0].__subclasses__()", "syntax_error"),
    ("lambda: 1", "syntax_error"),
    ("lambda", "unknown_name"),
    ('eval("1")', "syntax_error"),
    ("exec", "unknown_name"),
    ("__builtins__", "unknown_name"),
    ("_", "unknown_name"),
    ("fatigued; import os", "syntax_error"),
    ("{{7*7}}", "syntax_error"),
    ("${7*7}", "syntax_error"),
    ("' or 1=1 --", "syntax_error"),
    ("toss_height_cm > 1e400", "bad_number"),
    ("toss_height_cm > -1e400", "bad_number"),
    ("toss_height_cm > 1" + "0" * 400, "bad_number"),
    ("toss_height_cm > NaN", "unknown_name"),
    ("toss_height_cm > inf", "unknown_name"),
    ("(" * 10_000 + "fatigued" + ")" * 10_000, "too_long"),
    ("(" * 33 + "fatigued" + ")" * 33, "too_deep"),
    ("not " * 33 + "fatigued", "too_deep"),
    ("[" * 40, "too_deep"),
    ("fatigued and " * 10_000 + "fatigued", "too_long"),
    ("a" * 100_000, "too_long"),
    ("fatigued\x00", "syntax_error"),
    ("\x00", "syntax_error"),
    ("fatigué", "syntax_error"),
    ('serve_type == "\ud800"', "unknown_choice"),
    ("\u202efatigued", "syntax_error"),
    ("fatigued \u2227 fatigued", "syntax_error"),
    ("toss_height_cm \uff1e 5", "syntax_error"),
    ("", "syntax_error"),
    ("   # only a comment", "syntax_error"),
    ('serve_type == "unterminated', "syntax_error"),
]


@pytest.mark.parametrize(("text", "code"), INJECTIONS)
def test_hostile_input_is_refused_with_a_sensible_code(
    schema: Schema, text: str, code: str
) -> None:
    with pytest.raises(ConditionError) as caught:
        compile_condition(text, schema)
    assert caught.value.code == code


def test_deep_nesting_is_refused_before_parsing(schema: Schema) -> None:
    text = "(" * 990 + "fatigued" + ")" * 990
    assert len(text) <= MAX_TEXT_LENGTH
    with pytest.raises(ConditionError) as caught:
        compile_condition(text, schema)
    assert (caught.value.code, caught.value.position) == ("too_deep", 32)


def test_nesting_within_the_limit_is_fine(schema: Schema) -> None:
    text = "(" * 30 + "not " * 2 + "fatigued" + ")" * 30
    assert compile_condition(text, schema).evaluate_rows(
        [{"toss_height_cm": 1, "elbow_angle": 1, "serve_type": "jump", "fatigued": True}]
    ).tolist() == [True]


def test_parentheses_inside_strings_and_comments_do_not_count(schema: Schema) -> None:
    choices = Schema.from_dicts([{"name": "t", "kind": "category", "choices": ["(" * 40]}], [])
    assert compile_condition('t == "' + "(" * 40 + '"  # ' + "(" * 40, choices)


def test_non_text_input_is_a_condition_error(schema: Schema) -> None:
    for value in (None, b"fatigued", 3, ["fatigued"]):
        with pytest.raises(ConditionError) as caught:
            compile_condition(value, schema)  # type: ignore[arg-type]
        assert caught.value.code == "invalid_text"


def test_a_name_is_never_looked_up_on_python_objects(schema: Schema) -> None:
    for name in ("__class__", "__dict__", "__init__", "mro", "features", "feature"):
        with pytest.raises(ConditionError) as caught:
            compile_condition(name, schema)
        assert caught.value.code == "unknown_name"
