"""Properties over random schemas, conditions and rows (see strategies.py).

The vectorised evaluator, the slow reference evaluator and the exact regions must agree on
every row, boundaries included; witnesses must satisfy their conditions; the region algebra
must obey the set laws.
"""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mola.engine.language import Condition, compile_condition
from mola.engine.schema import Schema
from mola.engine.table import table_from_rows, validate_row
from tests.engine.language.reference import reference_evaluate
from tests.engine.language.strategies import World, condition_texts, number_text, rows, worlds

PROPERTY_SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def compiled_concepts(world: World) -> dict[str, Condition]:
    concepts: dict[str, Condition] = {}
    for name, text in world.concept_texts:
        concepts[name] = compile_condition(text, world.schema, concepts)
    return concepts


@st.composite
def cases(draw: st.DrawFn) -> tuple[World, str, list[dict]]:
    world = draw(worlds())
    text = draw(condition_texts(world))
    table_rows = draw(st.lists(rows(world.schema), min_size=1, max_size=12))
    return world, text, table_rows


@PROPERTY_SETTINGS
@given(cases())
def test_vectorised_evaluation_agrees_with_the_reference(case) -> None:
    world, text, table_rows = case
    condition = compile_condition(text, world.schema, compiled_concepts(world))
    concept_texts = dict(world.concept_texts)
    expected = [reference_evaluate(text, row, concept_texts) for row in table_rows]
    assert condition.evaluate_rows(table_rows).tolist() == expected


@PROPERTY_SETTINGS
@given(cases())
def test_a_row_is_in_the_region_exactly_when_the_condition_holds(case) -> None:
    world, text, table_rows = case
    condition = compile_condition(text, world.schema, compiled_concepts(world))
    table = table_from_rows(world.schema, table_rows)
    held = condition.evaluate(table)
    assert np.array_equal(condition.region.contains_table(table), held)
    assert np.array_equal(condition.region.complement().contains_table(table), ~held)


@PROPERTY_SETTINGS
@given(worlds().flatmap(lambda world: st.tuples(st.just(world), condition_texts(world))))
def test_a_witness_satisfies_the_condition_and_is_a_valid_row(case) -> None:
    world, text = case
    condition = compile_condition(text, world.schema, compiled_concepts(world))
    witness = condition.region.witness()
    if condition.region.is_empty():
        assert witness is None
        return
    assert witness is not None
    assert validate_row(world.schema, witness) == []
    assert condition.evaluate_rows([witness]).tolist() == [True]
    assert reference_evaluate(text, witness, dict(world.concept_texts))


@st.composite
def condition_pairs(draw: st.DrawFn) -> tuple[World, str, str]:
    world = draw(worlds())
    return (
        world,
        draw(condition_texts(world, small=True)),
        draw(condition_texts(world, small=True)),
    )


@PROPERTY_SETTINGS
@given(condition_pairs())
def test_the_region_algebra_obeys_the_set_laws(case) -> None:
    world, first_text, second_text = case
    concepts = compiled_concepts(world)
    a = compile_condition(first_text, world.schema, concepts).region
    b = compile_condition(second_text, world.schema, concepts).region
    both = compile_condition(f"({first_text}) and ({second_text})", world.schema, concepts)
    either = compile_condition(f"({first_text}) or ({second_text})", world.schema, concepts)
    negated = compile_condition(f"not ({first_text})", world.schema, concepts)

    assert both.region.equivalent(a.intersect(b))
    assert either.region.equivalent(a.union(b))
    assert negated.region.equivalent(a.complement())
    assert a.intersect(a.complement()).is_empty()
    assert a.union(a.complement()).is_everything()
    assert a.complement().complement().equivalent(a)
    assert a.contains(a.intersect(b)) and a.union(b).contains(b)
    # De Morgan
    assert a.intersect(b).complement().equivalent(a.complement().union(b.complement()))
    assert a.contains(b) == a.complement().intersect(b).is_empty()


@PROPERTY_SETTINGS
@given(condition_pairs())
def test_the_quick_containment_and_everything_tests_are_exact(case) -> None:
    world, first_text, second_text = case
    concepts = compiled_concepts(world)
    a = compile_condition(first_text, world.schema, concepts).region
    b = compile_condition(second_text, world.schema, concepts).region
    for region in (a, b, a.union(b), a.intersect(b), a.union(b.complement())):
        assert region.is_everything() == region.complement().is_empty()
    for outer, inner in ((a, b), (b, a), (a.union(b), a), (a, a.intersect(b))):
        assert outer.contains(inner) == inner.intersect(outer.complement()).is_empty()


@PROPERTY_SETTINGS
@given(cases())
def test_describe_and_witness_never_fail(case) -> None:
    world, text, _ = case
    region = compile_condition(text, world.schema, compiled_concepts(world)).region
    words = region.describe()
    assert words and ("__" not in words)
    if region.is_empty():
        assert words == "no case"


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from([-2.5, 0.0, 1.0, 3.0]),
    st.sampled_from(["<", "<=", ">", ">=", "==", "!="]),
)
def test_a_comparison_and_its_opposite_split_every_boundary(value: float, op: str) -> None:
    schema = Schema.from_dicts([{"name": "x", "kind": "number"}], [{"name": "a"}, {"name": "b"}])
    opposite = {"<": ">=", "<=": ">", ">": "<=", ">=": "<", "==": "!=", "!=": "=="}[op]
    one = compile_condition(f"x {op} {number_text(value)}", schema)
    other = compile_condition(f"x {opposite} {number_text(value)}", schema)
    near = [np.nextafter(value, -np.inf), value, np.nextafter(value, np.inf)]
    table = table_from_rows(schema, [{"x": float(v)} for v in near])
    assert np.array_equal(one.evaluate(table), ~other.evaluate(table))
    assert one.region.intersect(other.region).is_empty()
    assert one.region.union(other.region).is_everything()
