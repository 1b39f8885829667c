"""Property tests of the consensus core against a brute-force reference.

The reference compares every pair of teachings with the language's own exact region algebra
(``Region.intersect`` / ``contains``) and evaluator; the index must find exactly the same
contradictions with its packed arrays, boundaries included. Numbers come from one small pool
shared by schema bounds, condition literals and example values, so conditions and examples
land on each other's boundaries (``x > 2`` against ``x <= 2``, ``x >= 2`` against ``x == 2``).
"""

from __future__ import annotations

import itertools
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mola.engine.consensus import (
    RULE_EXAMPLE,
    RULE_EXCEPTION,
    RULE_OVERLAP,
    ConceptItem,
    ConsensusIndex,
    ExampleItem,
    Ref,
    RuleItem,
    refreshed,
)
from mola.engine.language import Condition, compile_condition
from mola.engine.schema import Schema
from mola.engine.table import table_from_rows

POOL = (-2.0, 0.0, 1.0, 2.0, 2.5, 5.0)
CHOICES = ("jump", "float", "under hand")
LABELS = ("yes", "no", "maybe")
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _num(value: float) -> str:
    return str(int(value)) if value.is_integer() else repr(value)


@st.composite
def schemas(draw: st.DrawFn) -> Schema:
    features: list[dict[str, Any]] = []
    for index in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["number", "number", "category", "boolean"]))
        feature: dict[str, Any] = {"name": f"{kind[0]}{index}", "kind": kind}
        if kind == "number":
            low, high = sorted(
                draw(st.lists(st.sampled_from(POOL), min_size=2, max_size=2, unique=True))
            )
            if draw(st.booleans()):
                feature["min"] = low
            if draw(st.booleans()):
                feature["max"] = high
        elif kind == "category":
            feature["choices"] = list(CHOICES[: draw(st.integers(1, 3))])
        features.append(feature)
    return Schema.from_dicts(features, [{"name": label} for label in LABELS])


@st.composite
def leaves(draw: st.DrawFn, schema: Schema) -> str:
    feature = draw(st.sampled_from(schema.features))
    if feature.kind == "number":
        a, b = draw(st.sampled_from(POOL)), draw(st.sampled_from(POOL))
        form = draw(st.integers(0, 2))
        if form == 0:
            op = draw(st.sampled_from(["<", "<=", ">", ">=", "==", "!="]))
            return f"{feature.name} {op} {_num(a)}"
        if form == 1:
            return f"{feature.name} between {_num(min(a, b))} and {_num(max(a, b))}"
        return f"{feature.name} not in [{_num(a)}, {_num(b)}]"
    if feature.kind == "category":
        picked = draw(st.lists(st.sampled_from(feature.choices), min_size=1, max_size=2))
        op = draw(st.sampled_from(["in", "not in"]))
        return f"{feature.name} {op} [{', '.join(json.dumps(c) for c in picked)}]"
    return draw(st.sampled_from([feature.name, f"not {feature.name}"]))


@st.composite
def conditions(draw: st.DrawFn, schema: Schema) -> str:
    parts = draw(st.lists(leaves(schema), min_size=1, max_size=3))
    text = parts[0]
    for part in parts[1:]:
        text = f"({text}) {draw(st.sampled_from(['and', 'and', 'or']))} ({part})"
    return text


@st.composite
def rows(draw: st.DrawFn, schema: Schema) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for feature in schema.features:
        if feature.kind == "number":
            allowed = [
                v
                for v in POOL
                if (feature.min is None or v >= feature.min)
                and (feature.max is None or v <= feature.max)
            ]
            row[feature.name] = draw(st.sampled_from(allowed))
        elif feature.kind == "category":
            row[feature.name] = draw(st.sampled_from(feature.choices))
        else:
            row[feature.name] = draw(st.booleans())
    return row


@st.composite
def worlds(draw: st.DrawFn) -> tuple[Schema, list[tuple[str, str]], list[tuple[dict, str]]]:
    schema = draw(schemas())
    rules = draw(st.lists(st.tuples(conditions(schema), st.sampled_from(LABELS)), max_size=8))
    examples = draw(st.lists(st.tuples(rows(schema), st.sampled_from(LABELS)), max_size=6))
    return schema, rules, examples


def compiled(schema: Schema, rules: list[tuple[str, str]]) -> dict[int, tuple[Condition, str]]:
    return {
        i: (compile_condition(text, schema), label)
        for i, (text, label) in enumerate(rules, start=1)
    }


def rule_items(conditions_by_id: dict[int, tuple[Condition, str]]) -> list[RuleItem]:
    return [
        RuleItem(i, label, f"author{i}", condition.region, condition.text)
        for i, (condition, label) in conditions_by_id.items()
    ]


def holds(condition: Condition, schema: Schema, point: dict[str, Any]) -> bool:
    return bool(condition.evaluate(table_from_rows(schema, [point]))[0])


@given(worlds())
@SETTINGS
def test_rule_pairs_are_exactly_the_brute_force_pairs(world: Any) -> None:
    schema, rules, _ = world
    conditions_by_id = compiled(schema, rules)
    index = ConsensusIndex(schema)
    for item in rule_items(conditions_by_id):
        index.replace(item)
    expected = {}
    for (i, (a, label_a)), (j, (b, label_b)) in itertools.combinations(conditions_by_id.items(), 2):
        overlap = a.region.intersect(b.region)
        if label_a == label_b or overlap.is_empty():
            continue
        a_in_b, b_in_a = b.region.contains(a.region), a.region.contains(b.region)
        kind = RULE_EXCEPTION if a_in_b != b_in_a else RULE_OVERLAP
        expected[(kind, (Ref("rule", i), Ref("rule", j)))] = overlap
    found = {(c.kind, c.teachings): c for c in index.detect_all() if c.kind != RULE_EXAMPLE}
    assert set(found) == set(expected)
    for (kind, refs), contradiction in found.items():
        overlap = expected[(kind, refs)]
        assert contradiction.region_text == overlap.describe()
        assert contradiction.witness == overlap.witness()
        for ref in refs:  # the witness satisfies both rules, by the language's evaluator
            assert holds(conditions_by_id[ref.id][0], schema, contradiction.witness)


@given(worlds())
@SETTINGS
def test_examples_inside_rules_are_exactly_the_evaluated_ones(world: Any) -> None:
    schema, rules, examples = world
    conditions_by_id = compiled(schema, rules)
    index = ConsensusIndex(schema)
    for item in rule_items(conditions_by_id):
        index.replace(item)
    for i, (row, label) in enumerate(examples, start=1):
        index.replace(ExampleItem(i, label, "coach", row))
    expected = {
        (Ref("example", i), Ref("rule", j))
        for i, (row, label) in enumerate(examples, start=1)
        for j, (condition, rule_label) in conditions_by_id.items()
        if label != rule_label and holds(condition, schema, row)
    }
    found = [c for c in index.detect_all() if c.kind == RULE_EXAMPLE]
    assert {c.teachings for c in found} == expected
    for contradiction in found:
        example_ref, rule_ref = contradiction.teachings
        assert contradiction.witness == examples[example_ref.id - 1][0]
        assert holds(conditions_by_id[rule_ref.id][0], schema, contradiction.witness)


@given(worlds())
@SETTINGS
def test_checking_one_teaching_finds_exactly_its_share_of_detect_all(world: Any) -> None:
    schema, rules, examples = world
    index = ConsensusIndex(schema)
    for item in rule_items(compiled(schema, rules)):
        index.replace(item)
    for i, (row, label) in enumerate(examples, start=1):
        index.replace(ExampleItem(i, label, "coach", row))
    everything = index.detect_all()
    refs = [Ref("rule", i) for i in range(1, len(rules) + 1)]
    refs += [Ref("example", i) for i in range(1, len(examples) + 1)]
    for ref in refs:
        assert index.check(ref) == [c for c in everything if ref in c.teachings]


def edits(schema: Schema) -> st.SearchStrategy[tuple]:
    ids = st.integers(1, 5)
    return st.one_of(
        st.tuples(st.just("rule"), ids, conditions(schema), st.sampled_from(LABELS)),
        st.tuples(
            st.just("example"),
            ids,
            rows(schema),
            st.sampled_from(LABELS),
            st.one_of(st.none(), ids),
            st.booleans(),
        ),
        st.tuples(st.just("concept"), ids, conditions(schema)),
        st.tuples(st.just("remove"), st.sampled_from(["rule", "example", "concept"]), ids),
        st.tuples(st.just("recent"), st.lists(rows(schema), max_size=3)),
    )


@st.composite
def edit_sequences(draw: st.DrawFn) -> tuple[Schema, list[tuple]]:
    schema = draw(schemas())
    return schema, draw(st.lists(edits(schema), min_size=1, max_size=25))


def apply_edit(index: ConsensusIndex, schema: Schema, step: tuple) -> frozenset[Ref]:
    """Carry out one step of ``edit_sequences`` on ``index``; the refs it affected."""
    match step:
        case ("rule", i, text, label):
            region = compile_condition(text, schema).region
            return index.replace(RuleItem(i, label, "anna", region, text))
        case ("example", i, row, label, refutes, evaluation):
            return index.replace(ExampleItem(i, label, "ben", row, refutes, evaluation))
        case ("concept", i, text):
            region = compile_condition(text, schema).region
            return index.replace(ConceptItem(i, f"c{i}", "carla", region))
        case ("remove", kind, i):
            return index.remove(Ref(kind, i))
        case ("recent", points):
            return index.set_recent_points(points)
    raise ValueError(f"unknown edit {step!r}")


@given(edit_sequences())
@SETTINGS
def test_incremental_bookkeeping_equals_from_scratch(sequence: Any) -> None:
    schema, steps = sequence
    index = ConsensusIndex(schema)
    current: dict = {}
    for step in steps:
        current = refreshed(current, index, apply_edit(index, schema, step))
        assert current == {c.key: c for c in index.detect_all()}


@given(worlds())
@SETTINGS
def test_rows_inside_every_rule_equals_rows_inside_one_by_one(world: Any) -> None:
    from mola.engine.consensus.packing import RowsByValue

    schema, rules, examples = world
    index = ConsensusIndex(schema)
    for item in rule_items(compiled(schema, rules)):
        index.replace(item)
    index.remove(Ref("rule", 2))  # a removed rule leaves dead columns behind
    table = table_from_rows(schema, [row for row, _ in examples])
    rows = RowsByValue(index.boxes, table)
    every = index.boxes.rows_inside_every_rule(rows)
    assert set(every) == set(index.rules)
    for rule_id in index.rules:
        assert every[rule_id].tolist() == index.boxes.rows_inside(rule_id, rows).tolist()


@given(schemas().flatmap(lambda schema: st.tuples(st.just(schema), st.lists(rows(schema)))))
@SETTINGS
def test_an_example_reads_as_its_point_region_describes_it(case: Any) -> None:
    from mola.engine.consensus.geometry import point_region

    schema, points = case
    reader = ConsensusIndex(schema).reader
    for point in points * 2:  # the second time from the cache
        region = point_region(schema, point, reader.domains)
        assert reader.point_words(point) == region.describe()
        assert reader.words(region) == region.describe()
        assert reader.witness(region) == (region.witness() or {})


@given(worlds(), st.lists(st.integers(1, 8), max_size=3))
@SETTINGS
def test_meeting_later_equals_meeting_each_later_column(world: Any, removed: list[int]) -> None:
    schema, rules, _ = world
    index = ConsensusIndex(schema)
    for item in rule_items(compiled(schema, rules)):
        index.replace(item)
    for rule_id in removed:  # dead columns stay behind until a compaction
        index.remove(Ref("rule", rule_id))
    boxes = index.boxes
    expected = {
        column: boxes.meeting(column, slice(column + 1, boxes.size)).tolist()
        for column in range(boxes.size)
        if boxes.label[column] >= 0
    }
    assert {column: hits.tolist() for column, hits in boxes.meeting_later()} == expected
