"""Text features in the condition language: normalisation, words and phrases, substrings,
patterns (RE2), counts, and the input a text feature refuses."""

from __future__ import annotations

import time

import numpy as np
import pytest

from mola.engine.language import ConditionError, compile_condition
from mola.engine.schema import Schema, schema_problems
from mola.engine.table import checked_table, table_from_rows, validate_row
from mola.engine.text import fold, highlight_spans, near_duplicate_key, normalise

FEATURES = [
    {"name": "comment", "kind": "text"},
    {"name": "likes", "kind": "number", "min": 0},
]
LABELS = [{"name": "spam"}, {"name": "ham"}]


@pytest.fixture
def schema() -> Schema:
    return Schema.from_dicts(FEATURES, LABELS)


def fires(schema: Schema, condition: str, *texts: str) -> list[bool]:
    rows = [{"comment": text, "likes": 1} for text in texts]
    return compile_condition(condition, schema).evaluate(table_from_rows(schema, rows)).tolist()


def error(schema: Schema, condition: str) -> ConditionError:
    with pytest.raises(ConditionError) as caught:
        compile_condition(condition, schema)
    return caught.value


# --- normalisation -----------------------------------------------------------------------


def test_normalise_removes_zero_width_characters_and_applies_nfkc():
    assert normalise("check\ufeff out\u200b") == "check out"
    assert normalise("ｃｈｅｃｋ ﬁne") == "check fine"  # full-width letters, a ligature
    assert fold(normalise("STRASSE Straße")) == "strasse strasse"


def test_a_phrase_matches_through_zero_width_characters_case_and_full_width(schema):
    texts = ("Check\ufeff OUT my video", "ｃｈｅｃｋ ｏｕｔ", "CHECK\n\tout", "checkout")
    assert fires(schema, 'comment contains "check out"', *texts) == [True, True, True, False]


def test_near_duplicates_ignore_case_punctuation_and_spacing():
    assert near_duplicate_key("Check out my channel!!") == near_duplicate_key(
        "check  out my\ufeff CHANNEL"
    )
    assert near_duplicate_key("check out my channel") != near_duplicate_key("check my channel")


# --- words, phrases, substrings ------------------------------------------------------------


def test_contains_is_on_word_boundaries_contains_text_is_a_substring(schema):
    texts = ("my channel", "a mystery", "MY!", "enemy")
    assert fires(schema, 'comment contains "my"', *texts) == [True, False, True, False]
    assert fires(schema, 'comment contains_text "my"', *texts) == [True, True, True, True]


def test_a_phrase_keeps_its_order_and_its_punctuation(schema):
    texts = ("check out", "out check", "check-out", "please check  out this")
    assert fires(schema, 'comment contains "check out"', *texts) == [True, False, False, True]
    assert fires(schema, 'comment contains "check-out"', *texts) == [False, False, True, False]


def test_contains_any_and_all(schema):
    texts = ("subscribe to my channel", "nice song", "my video", "song subscribe")
    any_ = 'comment contains any ["subscribe", "my video"]'
    all_ = 'comment contains all ["subscribe", "song"]'
    assert fires(schema, any_, *texts) == [True, False, True, True]
    assert fires(schema, all_, *texts) == [False, False, False, True]
    assert fires(schema, "comment contains any []", "x") == [False]
    assert fires(schema, "comment contains all []", "x") == [True]


def test_text_tests_combine_with_not_and_or_numbers_and_concepts(schema):
    promo = compile_condition('comment contains any ["my channel", "my video"]', schema)
    rule = compile_condition(
        'self_promotion and not comment contains "song" or likes > 100',
        schema,
        {"self_promotion": promo},
    )
    rows = [
        {"comment": "see my channel", "likes": 0},
        {"comment": "my channel has a song", "likes": 0},
        {"comment": "nothing", "likes": 500},
    ]
    assert rule.evaluate(table_from_rows(schema, rows)).tolist() == [True, False, True]
    assert rule.features == {"comment", "likes"}


# --- patterns ------------------------------------------------------------------------------


def test_matches_runs_a_pattern_case_sensitive_unless_i(schema):
    texts = ("Check it out", "check it out", "nothing")
    assert fires(schema, "comment matches /check.*out/i", *texts) == [True, True, False]
    assert fires(schema, "comment matches /check.*out/", *texts) == [False, True, False]
    assert fires(schema, r"comment matches /https?:\/\/\S+/", "go http://x.y now") == [True]


@pytest.mark.parametrize(
    ("pattern", "where"),
    [("(?<=a)b", "(?<="), ("a(b", "a(b"), (r"(a)\1", "\\1"), ("x**", "**")],
)
def test_a_pattern_re2_refuses_is_a_bad_pattern_with_a_position(schema, pattern, where):
    condition = f"comment matches /{pattern}/"
    found = error(schema, condition)
    assert found.code == "bad_pattern"
    assert found.position is not None
    assert condition.find("/") < found.position < len(condition)
    assert where[:2] in found.message or "pattern" in found.message


def test_an_unknown_flag_is_a_bad_pattern_at_the_flag(schema):
    found = error(schema, "comment matches /a/x")
    assert found.code == "bad_pattern" and found.position == len("comment matches /a/")


def test_a_pattern_that_backtracks_exponentially_in_python_runs_in_milliseconds(schema):
    condition = compile_condition("comment matches /^(a+)+$/", schema)
    rows = [{"comment": "a" * 5000 + "!", "likes": 1}] * 20
    table = table_from_rows(schema, rows)
    started = time.perf_counter()
    assert not condition.evaluate(table).any()
    # Python's re takes longer than the age of the universe here; RE2 is linear. Generous
    # bound on a loaded machine: the point is "not exponential", not a speed target.
    assert time.perf_counter() - started < 0.5


def test_huge_patterns_are_refused_quickly(schema):
    alternatives = "|".join(f"w{i}" for i in range(10_000))
    for condition in (f"comment matches /{'a' * 1_000_000}/", f"comment matches /{alternatives}/"):
        started = time.perf_counter()
        found = error(schema, condition)
        assert found.code in ("too_long", "bad_pattern")
        assert time.perf_counter() - started < 0.5


# --- counts ----------------------------------------------------------------------------------


def test_words_and_length_are_numbers(schema):
    texts = ("cool video!", "this is a much longer comment here", "")
    assert fires(schema, "words(comment) < 5", *texts) == [True, False, True]
    assert fires(schema, "length(comment) > 20", *texts) == [False, True, False]
    assert fires(schema, "words(comment) between 2 and 3", *texts) == [True, False, False]
    assert fires(schema, "words(comment) in [0, 7]", *texts) == [False, True, True]
    assert fires(schema, "5 > words(comment) and words(comment) != 0", *texts) == [
        True,
        False,
        False,
    ]


def test_counts_only_of_text_features_and_text_features_only_with_text_tests(schema):
    assert error(schema, "words(likes) < 5").code == "type_mismatch"
    assert error(schema, 'comment == "hi"').code == "bad_operator"
    assert error(schema, "comment").code == "not_a_predicate"
    assert error(schema, 'likes contains "x"').code == "bad_operator"
    assert error(schema, 'comment contains ""').code == "bad_string"
    assert error(schema, "comment contains 5").code == "syntax_error"
    assert error(schema, 'words(comment) < "x"').code == "type_mismatch"


def test_a_feature_may_still_be_called_words_or_length():
    schema = Schema.from_dicts(
        [{"name": "words", "kind": "number"}, {"name": "text", "kind": "text"}], LABELS
    )
    condition = compile_condition("words > 3 and words(text) > 1", schema)
    table = table_from_rows(schema, [{"words": 5, "text": "a b"}, {"words": 5, "text": "a"}])
    assert condition.evaluate(table).tolist() == [True, False]


# --- regions -------------------------------------------------------------------------------


def test_regions_of_text_conditions_agree_with_the_evaluator(schema):
    conditions = [
        'comment contains "check out" and not comment contains "song"',
        'comment contains any ["my", "plz"] or words(comment) < 3',
        "not (comment matches /http/ and likes > 5)",
    ]
    texts = ["check out my song", "check out this", "plz", "http x y z", "long text with words"]
    rows = [{"comment": t, "likes": likes} for t in texts for likes in (0, 10)]
    table = table_from_rows(schema, rows)
    for text in conditions:
        condition = compile_condition(text, schema)
        assert np.array_equal(condition.region.contains_table(table), condition.evaluate(table))


def test_a_contradictory_text_region_is_empty_and_its_complement_is_everything(schema):
    region = compile_condition('comment contains "x" and not comment contains "x"', schema).region
    assert region.is_empty()
    whole = compile_condition('comment contains "x" or not comment contains "x"', schema).region
    assert whole.is_everything()


def test_describe_and_witness_of_a_text_region(schema):
    region = compile_condition(
        'comment contains "check out" and not comment contains "song" and words(comment) >= 4',
        schema,
    ).region
    assert region.describe() == (
        'comment contains "check out" and comment does not contain "song" and '
        "words(comment) is at least 4"
    )
    witness = region.witness()
    assert witness is not None
    assert region.contains_table(table_from_rows(schema, [witness])).tolist() == [True]


# --- schema and values ---------------------------------------------------------------------


def test_a_text_feature_has_a_max_length():
    assert Schema.from_dicts(FEATURES, LABELS).feature("comment").max_length == 10_000
    small = [{"name": "comment", "kind": "text", "max_length": 5}]
    assert Schema.from_dicts(small, LABELS).feature("comment").max_length == 5
    for bad in (0, -1, 10**9, 2.5, True, "10"):
        problems = schema_problems([{"name": "c", "kind": "text", "max_length": bad}], LABELS)
        assert [p["field"] for p in problems] == ["features.0.max_length"]
    problems = schema_problems([{"name": "n", "kind": "number", "max_length": 5}], LABELS)
    assert [p["field"] for p in problems] == ["features.0.max_length"]


def test_the_text_words_of_the_language_are_reserved_names():
    problems = schema_problems([{"name": "contains", "kind": "text"}], LABELS)
    assert [p["code"] for p in problems] == ["reserved_name"]


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("x" * 10_001, "too_long"),
        ("a\x00b", "invalid_text"),
        ("\ud800", "invalid_text"),
        (5, "wrong_type"),
    ],
)
def test_bad_text_values_are_refused_row_by_row_and_by_column(schema, value, code):
    row = {"comment": value, "likes": 1}
    assert [(e.field, e.code) for e in validate_row(schema, row)] == [("comment", code)]
    _, refused = checked_table(schema, [{"comment": "fine", "likes": 1}, row])
    assert refused == [1]


def test_a_table_keeps_the_normalised_text(schema):
    table = table_from_rows(schema, [{"comment": "Ｈｉ\ufeff there", "likes": 1}])
    assert table.column("comment").tolist() == ["Hi there"]
    assert table.folded("comment").tolist() == ["hi there"]
    assert table.measure("comment", "words").tolist() == [2.0]


def test_highlights_point_at_the_text_as_written():
    from mola.engine.language.text_atoms import Phrase, atom_spans

    text = "Please CHECK\ufeff out ｍｙ channel"

    def finder(normalised: str, folded: str) -> list[tuple[int, int]]:
        return atom_spans(Phrase(("check", "out")), normalised, folded) + atom_spans(
            Phrase(("my",)), normalised, folded
        )

    spans = highlight_spans(text, [finder])
    assert [text[start:end] for start, end in spans] == ["CHECK\ufeff out", "ｍｙ"]
