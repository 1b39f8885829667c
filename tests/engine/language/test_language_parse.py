from __future__ import annotations

import pytest

from mola.engine.language import ConditionError, parse, referenced_names
from mola.engine.language.nodes import And, Between, Bool, Compare, InList, Name, Not, Number, Or


def syntax_error(text: str) -> ConditionError:
    with pytest.raises(ConditionError) as caught:
        parse(text)
    assert caught.value.code == "syntax_error"
    return caught.value


def test_and_binds_tighter_than_or_and_not_tighter_than_and() -> None:
    tree = parse("a or not b and c")
    assert isinstance(tree, Or)
    assert tree.items[0] == Name("a", 0)
    second = tree.items[1]
    assert isinstance(second, And)
    assert second.items[0] == Not(Name("b", 9), 5)


def test_parentheses_group() -> None:
    tree = parse("(a or b) and c")
    assert isinstance(tree, And)
    assert isinstance(tree.items[0], Or)


def test_chains_are_flattened() -> None:
    tree = parse("a and b and c and d")
    assert isinstance(tree, And)
    assert [item.name for item in tree.items] == ["a", "b", "c", "d"]  # type: ignore[union-attr]


def test_comparisons_between_and_lists() -> None:
    assert parse("x <= 5") == Compare(Name("x", 0), "<=", Number(5.0, "5", 5), 2)
    assert parse("5 < x").left == Number(5.0, "5", 0)  # type: ignore[union-attr]
    between = parse("x between -1 and 2.5")
    assert isinstance(between, Between)
    assert (between.low.value, between.high.value) == (-1.0, 2.5)  # type: ignore[union-attr]
    listed = parse('t not in ["a", "b",]')
    assert isinstance(listed, InList) and listed.negated
    assert [item.value for item in listed.items] == ["a", "b"]  # type: ignore[union-attr]
    assert parse("t in []") == InList(Name("t", 0), (), False, 2)


@pytest.mark.parametrize(
    ("text", "value"),
    [("1", 1.0), ("-2", -2.0), ("3.25", 3.25), (".5", 0.5), ("1e3", 1000.0), ("-1.5E-2", -0.015)],
)
def test_numbers(text: str, value: float) -> None:
    tree = parse(f"x == {text}")
    assert tree.right == Number(value, text, 5)  # type: ignore[union-attr]


def test_strings_take_json_escapes() -> None:
    tree = parse(r'x == "say \"hi\"\n\u00e9\\"')
    assert tree.right.value == 'say "hi"\né\\'  # type: ignore[union-attr]


def test_true_false_and_comments() -> None:
    tree = parse("# a comment line\nflag == true  # trailing comment\n or false")
    assert isinstance(tree, Or)
    assert tree.items[0].right == Bool(True, 25)  # type: ignore[union-attr]
    assert tree.items[1] == Bool(False, 54)


def test_keywords_are_not_names_but_may_start_names() -> None:
    tree = parse("android and order or notable or inside or betweenness or true_ish")
    names = referenced_names("android and order or notable or inside or betweenness or true_ish")
    assert names == {"android", "order", "notable", "inside", "betweenness", "true_ish"}
    assert isinstance(tree, Or)


def test_referenced_names_skips_strings() -> None:
    text = 'high_toss and serve_type in ["jump"] or not (tired and 3 < x)'
    assert referenced_names(text) == {"high_toss", "serve_type", "tired", "x"}


def test_referenced_names_raises_on_bad_syntax() -> None:
    with pytest.raises(ConditionError):
        referenced_names("a and")


def test_a_missing_operand_points_at_the_end() -> None:
    error = syntax_error("x > ")
    assert error.position == 4
    assert "ends too early" in error.message
    assert "a number" in error.message


def test_an_unexpected_token_is_named_with_what_was_expected() -> None:
    error = syntax_error("x > 5 y")
    assert error.position == 6
    assert "'y'" in error.message
    assert "'and'" in error.message and "'or'" in error.message


def test_a_single_equals_sign_gets_a_hint() -> None:
    error = syntax_error("toss = 5")
    assert error.position == 5
    assert "==" in error.message


def test_uppercase_keywords_get_a_hint() -> None:
    error = syntax_error("a AND b")
    assert error.position == 2
    assert "lowercase" in error.message


def test_single_quotes_get_a_hint() -> None:
    error = syntax_error("t == 'jump'")
    assert error.position == 5
    assert "double quotes" in error.message


def test_an_unclosed_parenthesis() -> None:
    error = syntax_error("(a or b")
    assert error.position == 7
    assert "')'" in error.message


def test_a_chained_comparison_is_refused() -> None:
    error = syntax_error("1 < x < 5")
    assert error.position == 6


def test_bad_escapes_are_bad_strings() -> None:
    with pytest.raises(ConditionError) as caught:
        parse(r'x == "a\qb"')
    assert caught.value.code == "bad_string"
    assert caught.value.position == 5


def test_errors_serialise() -> None:
    error = syntax_error("x >")
    assert error.as_dict() == {
        "code": "syntax_error",
        "message": error.message,
        "position": 3,
        "suggestion": None,
    }
