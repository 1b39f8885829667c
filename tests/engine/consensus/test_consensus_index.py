"""The consensus index on the volleyball-serve schema: kinds, boundaries, notes, severity."""

from __future__ import annotations

import random
from typing import Any

import pytest

from mola.engine.consensus import (
    CONCEPT_DUPLICATE,
    EXAMPLE_CONFLICT,
    RULE_EXAMPLE,
    RULE_EXCEPTION,
    RULE_OVERLAP,
    ConceptItem,
    ConsensusIndex,
    Contradiction,
    ExampleItem,
    Ref,
    RuleItem,
)
from mola.engine.consensus.counted import index_rendered
from mola.engine.language import compile_condition
from mola.engine.schema import Schema
from tests.engine.conftest import serve_row

FRONT, NO_CUE = "toss in front", "no cue"


def rule(schema: Schema, rule_id: int, text: str, label: str, author: str = "anna") -> RuleItem:
    return RuleItem(rule_id, label, author, compile_condition(text, schema).region, text)


def example(example_id: int, label: str, refutes: int | None = None, **values: Any) -> ExampleItem:
    return ExampleItem(example_id, label, "carla", serve_row(**values), refutes)


def index_of(schema: Schema, *items: Any) -> ConsensusIndex:
    index = ConsensusIndex(schema)
    for item in items:
        index.replace(item)
    return index


def only(found: list[Contradiction], kind: str) -> Contradiction:
    matching = [c for c in found if c.kind == kind]
    assert len(matching) == 1, found
    return matching[0]


def test_open_and_closed_boundaries_decide_overlap(schema: Schema) -> None:
    index = index_of(
        schema,
        rule(schema, 1, "toss_height_cm > 60", FRONT),
        rule(schema, 2, "toss_height_cm <= 60", NO_CUE),
    )
    assert index.detect_all() == []
    index.replace(rule(schema, 2, "toss_height_cm <= 60 and toss_height_cm >= 60", NO_CUE))
    assert index.detect_all() == []
    index.replace(rule(schema, 1, "toss_height_cm >= 60", FRONT))
    found = only(index.detect_all(), RULE_EXCEPTION)
    assert found.witness["toss_height_cm"] == 60
    assert found.region_text == "toss_height_cm is 60 cm"


def test_the_schema_domain_empties_an_overlap(schema: Schema) -> None:
    index = index_of(
        schema,
        rule(schema, 1, "toss_height_cm > 150", FRONT),
        rule(schema, 2, "toss_height_cm < 0 or toss_height_cm > 200", NO_CUE),
    )
    assert index.detect_all() == []


def test_an_overlap_has_a_witness_a_text_and_a_summary(schema: Schema) -> None:
    index = index_of(
        schema,
        rule(schema, 12, 'toss_height_cm between 60 and 75 and serve_type == "jump"', FRONT),
        rule(schema, 31, "toss_height_cm >= 50 and elbow_angle < 90", NO_CUE, author="ben"),
    )
    found = only(index.check(Ref("rule", 31)), RULE_OVERLAP)
    assert found.teachings == (Ref("rule", 12), Ref("rule", 31))
    assert found.key == "rule_overlap:rule:12+rule:31"
    assert found.witness == {
        "toss_height_cm": 67.5,
        "elbow_angle": 89.0,
        "serve_type": "jump",
        "fatigued": False,
    }
    assert found.summary == (
        "Rule #12 (anna) says toss in front, rule #31 (ben) says no cue, when "
        "toss_height_cm is 60\u201375 cm and elbow_angle is below 90 and serve_type is jump"
    )
    evidence, note = index_rendered(index, found)
    assert evidence == {FRONT: 0, NO_CUE: 0} and found.evidence == {}  # counts: when shown
    assert "No example falls there yet" in note and "No example" not in found.note


def test_a_rule_inside_another_is_a_likely_exception(schema: Schema) -> None:
    index = index_of(
        schema,
        rule(schema, 1, "toss_height_cm > 60", FRONT),
        rule(schema, 2, "toss_height_cm > 60 and fatigued", NO_CUE),
        rule(schema, 3, "elbow_angle > 100", NO_CUE),
    )
    found = index.detect_all()
    exception = only(found, RULE_EXCEPTION)
    assert exception.teachings == (Ref("rule", 1), Ref("rule", 2))
    assert "Rule #2 covers only part of rule #1's cases" in exception.note
    assert exception.severity < only(found, RULE_OVERLAP).severity


def test_rules_with_the_same_region_and_different_labels_overlap(schema: Schema) -> None:
    index = index_of(
        schema,
        rule(schema, 1, "fatigued", FRONT),
        rule(schema, 2, "fatigued == true", NO_CUE),
    )
    found = only(index.detect_all(), RULE_OVERLAP)
    assert "exactly the same cases" in found.note


def test_same_label_rules_never_contradict(schema: Schema) -> None:
    index = index_of(
        schema, rule(schema, 1, "fatigued", FRONT), rule(schema, 2, "elbow_angle > 3", FRONT)
    )
    assert index.detect_all() == []


def test_a_counterexample_naming_its_rule_is_expected(schema: Schema) -> None:
    index = index_of(
        schema,
        rule(schema, 1, "toss_height_cm > 60", FRONT),
        example(1, NO_CUE, toss_height_cm=70.0),
        example(2, NO_CUE, refutes=1, toss_height_cm=80.0, serve_type="jump"),
    )
    found = {c.teachings[0].id: c for c in index.detect_all() if c.kind == RULE_EXAMPLE}
    assert not found[1].expected and found[2].expected
    assert found[2].severity < found[1].severity
    assert "counterexample" in found[2].note
    assert found[2].witness == serve_row(toss_height_cm=80.0, serve_type="jump")


def test_examples_conflict_within_two_percent_of_the_range(schema: Schema) -> None:
    # toss_height_cm has min 0 and max 200: 2 % is 4 cm. elbow_angle has no bounds: its
    # range is the spread of the examples (80 to 100 here, so 0.4 degrees).
    index = index_of(
        schema,
        example(1, FRONT, toss_height_cm=100.0, elbow_angle=80.0),
        example(2, NO_CUE, toss_height_cm=104.0, elbow_angle=80.4),
        example(3, NO_CUE, toss_height_cm=104.5, elbow_angle=80.0),
        example(4, NO_CUE, toss_height_cm=100.0, elbow_angle=100.0),
        example(5, NO_CUE, toss_height_cm=100.0, elbow_angle=80.0, fatigued=True),
        example(6, NO_CUE, toss_height_cm=100.0, elbow_angle=80.0),
    )
    found = {c.teachings: c for c in index.detect_all() if c.kind == EXAMPLE_CONFLICT}
    assert set(found) == {
        (Ref("example", 1), Ref("example", 2)),
        (Ref("example", 1), Ref("example", 6)),
    }
    near, same = (
        found[(Ref("example", 1), Ref("example", 2))],
        found[(Ref("example", 1), Ref("example", 6))],
    )
    assert same.severity > near.severity
    assert "nearly the same case" in near.note
    assert near.region_text.startswith("toss_height_cm is 100\u2013104 cm")


def test_moving_the_spread_rechecks_every_example(schema: Schema) -> None:
    index = index_of(
        schema, example(1, FRONT, elbow_angle=80.0), example(2, NO_CUE, elbow_angle=81.0)
    )
    assert [c.kind for c in index.detect_all()] == []
    # A far example widens elbow_angle's spread to 100, so 1 degree is now within 2 %.
    affected = index.replace(example(3, FRONT, elbow_angle=180.0))
    assert {Ref("example", 1), Ref("example", 2)} <= affected
    assert [c.kind for c in index.detect_all()] == [EXAMPLE_CONFLICT]


def test_concepts_with_the_same_cases_are_duplicates(schema: Schema) -> None:
    index = index_of(
        schema,
        ConceptItem(
            1, "high_toss", "anna", compile_condition("toss_height_cm > 60", schema).region
        ),
        ConceptItem(
            2, "tall_toss", "ben", compile_condition("not toss_height_cm <= 60", schema).region
        ),
        ConceptItem(3, "other", "ben", compile_condition("toss_height_cm >= 60", schema).region),
    )
    found = only(index.detect_all(), CONCEPT_DUPLICATE)
    assert found.teachings == (Ref("concept", 1), Ref("concept", 2))
    assert "merging" in found.note


def test_evaluation_examples_are_not_evidence(schema: Schema) -> None:
    index = index_of(
        schema,
        rule(schema, 1, "toss_height_cm > 60", FRONT),
        rule(schema, 2, "fatigued", NO_CUE),
        example(1, NO_CUE, toss_height_cm=70.0, fatigued=True),
        ExampleItem(2, FRONT, "dev", serve_row(toss_height_cm=90.0, fatigued=True), None, True),
    )
    overlap = only(index.check(Ref("rule", 1)), RULE_OVERLAP)
    assert index_rendered(index, overlap)[0] == {FRONT: 0, NO_CUE: 1}


def test_adding_an_example_rechecks_the_rules_around_it(schema: Schema) -> None:
    index = index_of(
        schema,
        rule(schema, 1, "toss_height_cm > 60", FRONT),
        rule(schema, 2, "fatigued", NO_CUE),
        rule(schema, 3, "elbow_angle > 120", NO_CUE),
    )
    affected = index.replace(example(1, NO_CUE, toss_height_cm=70.0, fatigued=True))
    assert affected == {Ref("example", 1), Ref("rule", 1), Ref("rule", 2)}


def test_unknown_teachings_have_no_contradictions(schema: Schema) -> None:
    index = index_of(schema, rule(schema, 1, "fatigued", FRONT))
    assert index.check(Ref("rule", 99)) == []
    assert index.remove(Ref("example", 5)) == frozenset()


# --- severity on a realistic rule set ---------------------------------------------------


def coaching_space(schema: Schema) -> ConsensusIndex:
    """Broad rules that mostly overlap; examples settle some overlaps and split others."""
    items: list[Any] = [
        rule(schema, 1, "toss_height_cm > 60", FRONT),
        rule(schema, 2, "elbow_angle < 90", NO_CUE),
        rule(schema, 3, 'serve_type == "jump"', NO_CUE),
        rule(schema, 4, "fatigued", NO_CUE),
        rule(schema, 5, "toss_height_cm > 120", FRONT),
    ]
    rng = random.Random(3)
    next_id = iter(range(1, 1000))

    def add(label: str, count: int, **values: Any) -> None:
        for _ in range(count):
            point = {"elbow_angle": 95.0, "serve_type": "float", **values}
            point["toss_height_cm"] = values.get("toss_height_cm", rng.uniform(0, 55))
            items.append(example(next(next_id), label, **point))

    # Rule 1 against rule 2: the examples split evenly. Rule 1 against rule 3: they side
    # with rule 1. Rule 1 against rule 4 (and 5 against 4): nothing in the overlap.
    add(FRONT, 3, toss_height_cm=80.0, elbow_angle=70.0)
    add(NO_CUE, 3, toss_height_cm=85.0, elbow_angle=75.0)
    add(FRONT, 6, toss_height_cm=90.0, serve_type="jump")
    add(FRONT, 6, toss_height_cm=70.0)
    add(NO_CUE, 8, serve_type="jump")
    add(NO_CUE, 4, elbow_angle=60.0)
    return index_of(schema, *items)


def test_disputed_overlaps_rank_above_settled_ones(schema: Schema) -> None:
    index = coaching_space(schema)
    found = {c.key: c for c in index.detect_all()}
    disputed = found["rule_overlap:rule:1+rule:2"]
    settled = found["rule_overlap:rule:1+rule:3"]
    unknown = found["rule_overlap:rule:1+rule:4"]
    assert disputed.severity > unknown.severity > settled.severity
    assert "split" in index_rendered(index, disputed)[1]
    evidence, note = index_rendered(index, settled)
    assert "the model can learn that precedence" in note
    assert evidence == {FRONT: 6, NO_CUE: 0}


def test_a_rule_against_most_of_its_examples_ranks_first(schema: Schema) -> None:
    index = coaching_space(schema)
    index.replace(
        rule(schema, 9, 'toss_height_cm > 60 and serve_type == "float"', NO_CUE, "mallory")
    )
    ranked = index.detect_all()
    assert Ref("rule", 9) in ranked[0].teachings
    assert ranked[0].severity >= 0.9
    assert "likely mistake" in index_rendered(index, ranked[0])[1]
    assert all(c.severity < 0.9 for c in ranked if Ref("rule", 9) not in c.teachings)


@pytest.mark.parametrize("share", [0.0, 0.5])
def test_traffic_in_an_overlap_raises_its_severity(schema: Schema, share: float) -> None:
    index = index_of(
        schema, rule(schema, 1, "fatigued", FRONT), rule(schema, 2, "elbow_angle > 100", NO_CUE)
    )
    quiet = only(index.detect_all(), RULE_OVERLAP).severity
    inside, outside = serve_row(fatigued=True, elbow_angle=120.0), serve_row()
    index.set_recent_points([inside] * int(10 * share) + [outside] * int(10 * (1 - share)))
    busy = only(index.detect_all(), RULE_OVERLAP).severity
    assert busy > quiet if share else busy == quiet
