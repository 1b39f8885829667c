"""Contradictions among text teachings: overlaps with a checked witness text, honest "no
witness found", examples inside text rules, and near-duplicate texts as the same case."""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mola.engine.consensus import ConsensusIndex, ExampleItem, RuleItem
from mola.engine.consensus.witnesses import NO_WITNESS_NOTE
from mola.engine.language import compile_condition
from mola.engine.language.text_region import TextConstraint
from mola.engine.language.text_witness import text_witness
from mola.engine.schema import Schema
from mola.engine.table import table_from_rows

SCHEMA = Schema.from_dicts(
    [{"name": "comment", "kind": "text"}, {"name": "likes", "kind": "number", "min": 0}],
    [{"name": "spam"}, {"name": "ham"}],
)


def rule(id: int, condition: str, label: str) -> RuleItem:
    return RuleItem(id, label, "ann", compile_condition(condition, SCHEMA).region, condition)


def example(id: int, text: str, label: str, likes: int = 1) -> ExampleItem:
    return ExampleItem(id, label, "eve", {"comment": text, "likes": likes})


def found(*items) -> list:
    index = ConsensusIndex(SCHEMA)
    for item in items:
        index.replace(item)
    return index.detect_all()


def satisfies(condition: str, point: dict) -> bool:
    compiled = compile_condition(condition, SCHEMA)
    return bool(compiled.evaluate(table_from_rows(SCHEMA, [point]))[0])


def test_two_phrase_rules_overlap_with_a_witness_text_both_accept():
    a, b = 'comment contains "check out"', 'comment contains "song" and likes > 10'
    (contradiction,) = found(rule(1, a, "spam"), rule(2, b, "ham"))
    assert contradiction.kind == "rule_overlap"
    witness = contradiction.witness
    assert "check out" in witness["comment"] and "song" in witness["comment"]
    assert satisfies(a, witness) and satisfies(b, witness)
    assert NO_WITNESS_NOTE not in contradiction.note


def test_rules_that_exclude_each_other_literally_do_not_overlap():
    assert not found(
        rule(1, 'comment contains "my channel"', "spam"),
        rule(2, 'not comment contains "my channel"', "ham"),
    )
    assert not found(rule(1, "words(comment) < 3", "spam"), rule(2, "words(comment) > 5", "ham"))


def test_my_and_mystery_do_not_clash_but_a_witness_avoids_the_forbidden_word():
    a = 'comment contains "my" and not comment contains "song"'
    b = 'comment contains_text "mystery"'
    (contradiction,) = found(rule(1, a, "spam"), rule(2, b, "ham"))
    assert satisfies(a, contradiction.witness) and satisfies(b, contradiction.witness)


def test_no_witness_within_the_budget_is_said_never_hidden():
    # Requiring "check out" while forbidding "check" holds no text, but literals cannot
    # show it: the overlap is reported as possible, with no witness text.
    a = 'comment contains "check out"'
    b = 'not comment contains "check" and likes > 3'
    (contradiction,) = found(rule(1, a, "spam"), rule(2, b, "ham"))
    assert NO_WITNESS_NOTE in contradiction.note
    assert "comment" not in contradiction.witness


def test_a_pattern_overlap_has_a_generated_and_checked_witness():
    a, b = r"comment matches /check.*out/i", r"comment matches /https?:\/\/\w+/"
    (contradiction,) = found(rule(1, a, "spam"), rule(2, b, "ham"))
    assert satisfies(a, contradiction.witness) and satisfies(b, contradiction.witness)


def test_a_text_example_inside_a_rule_with_another_label():
    (contradiction,) = found(
        rule(1, 'comment contains "subscribe"', "spam"),
        example(5, "Please SUBSCRIBE\ufeff to me", "ham"),
        example(6, "subscriber count", "ham"),  # not the whole word
    )
    assert contradiction.kind == "rule_example"
    assert contradiction.witness["comment"] == "Please SUBSCRIBE\ufeff to me"


def test_near_duplicate_texts_with_different_labels_are_the_same_case():
    (contradiction,) = found(
        example(1, "Check out my channel!!", "spam"),
        example(2, "check out  MY channel", "ham"),
        example(3, "check my channel", "ham"),
    )
    assert contradiction.kind == "example_conflict"
    assert {ref.id for ref in contradiction.teachings} == {1, 2}
    assert "the same case" in contradiction.note
    assert 'comment is "Check out my channel!!"' in contradiction.region_text


def test_a_catastrophic_pattern_is_checked_in_milliseconds():
    started = time.perf_counter()
    found(
        rule(1, "comment matches /^(a+)+$/", "spam"),
        rule(2, "comment matches /^(a|aa)+b$/", "ham"),
        example(3, "a" * 3000 + "!", "ham"),
    )
    assert time.perf_counter() - started < 1.0


# --- property: every witness satisfies both conditions ----------------------------------------

WORDS = ["check", "out", "my", "channel", "song", "love", "subscribe", "http", "plz", "mystery"]
phrases = st.lists(st.sampled_from(WORDS), min_size=1, max_size=2).map(" ".join)
PATTERNS = [r"/check.*out/i", r"/^\w+$/", r"/(a|b)+c/", r"/\d{2,3}/", r"/my\s+\w+/", r"/x?y/"]


@st.composite
def text_condition(draw) -> str:
    kind = draw(st.sampled_from(["contains", "text", "any", "all", "matches", "words", "length"]))
    if kind == "contains":
        atom = f'comment contains "{draw(phrases)}"'
    elif kind == "text":
        atom = f'comment contains_text "{draw(st.sampled_from(WORDS))[:3]}"'
    elif kind in ("any", "all"):
        items = ", ".join(f'"{p}"' for p in draw(st.lists(phrases, min_size=1, max_size=3)))
        atom = f"comment contains {kind} [{items}]"
    elif kind == "matches":
        atom = f"comment matches {draw(st.sampled_from(PATTERNS))}"
    else:
        op = draw(st.sampled_from(["<", ">", ">=", "<=", "=="]))
        atom = f"{kind}(comment) {op} {draw(st.integers(0, 12))}"
    return f"not {atom}" if draw(st.booleans()) else atom


conditions = st.lists(text_condition(), min_size=1, max_size=3).map(" and ".join)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(conditions, conditions)
def test_every_witness_satisfies_both_conditions(a, b):
    for contradiction in found(rule(1, a, "spam"), rule(2, b, "ham")):
        if "comment" in contradiction.witness:
            assert satisfies(a, contradiction.witness) and satisfies(b, contradiction.witness)
        else:
            assert NO_WITNESS_NOTE in contradiction.note


@settings(max_examples=150, deadline=None)
@given(conditions)
def test_a_region_witness_lies_in_its_condition(a):
    region = compile_condition(a, SCHEMA).region
    point = region.witness()
    if point is not None:
        assert satisfies(a, point)


@pytest.mark.parametrize("words", [0, 3, 40])
def test_a_text_witness_reaches_the_word_count(words):
    from mola.engine.language.intervals import Interval

    constraint = TextConstraint(words=Interval.point(words))
    text = text_witness(constraint)
    assert text is not None and len(text.split()) == words
