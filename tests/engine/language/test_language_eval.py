from __future__ import annotations

import numpy as np
import pytest

from mola.engine.language import Condition, compile_condition
from mola.engine.schema import Schema
from mola.engine.table import table_from_rows
from tests.engine.conftest import serve_row

ROWS = [
    serve_row(toss_height_cm=60, elbow_angle=80, serve_type="jump", fatigued=True),
    serve_row(toss_height_cm=60.5, elbow_angle=100, serve_type="float", fatigued=False),
    serve_row(toss_height_cm=75, elbow_angle=100.5, serve_type="underhand", fatigued=True),
    serve_row(toss_height_cm=0, elbow_angle=-20, serve_type="jump", fatigued=False),
]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("toss_height_cm > 60", [False, True, True, False]),
        ("toss_height_cm >= 60", [True, True, True, False]),
        ("60 >= toss_height_cm", [True, False, False, True]),
        ("elbow_angle between 80 and 100", [True, True, False, False]),
        ("elbow_angle != 100", [True, False, True, True]),
        ("elbow_angle in [80, -20]", [True, False, False, True]),
        ("elbow_angle not in [80, -20]", [False, True, True, False]),
        ('serve_type == "jump"', [True, False, False, True]),
        ('serve_type != "jump"', [False, True, True, False]),
        ('serve_type in ["jump", "float"]', [True, True, False, True]),
        ('serve_type not in ["jump", "float"]', [False, False, True, False]),
        ("fatigued", [True, False, True, False]),
        ("not fatigued", [False, True, False, True]),
        ("fatigued == false", [False, True, False, True]),
        ("true", [True] * 4),
        ("false", [False] * 4),
        ("fatigued or toss_height_cm > 70 and elbow_angle < 0", [True, False, True, False]),
        ("(fatigued or toss_height_cm < 70) and elbow_angle < 90", [True, False, False, True]),
        ("toss_height_cm in []", [False] * 4),
    ],
)
def test_it_evaluates_each_form(schema: Schema, text: str, expected: list[bool]) -> None:
    condition = compile_condition(text, schema)
    assert condition.evaluate_rows(ROWS).tolist() == expected


def test_concepts_evaluate_through_their_definitions(
    schema: Schema, concepts: dict[str, Condition]
) -> None:
    condition = compile_condition("risky or not high_toss", schema, concepts)
    assert condition.evaluate_rows(ROWS).tolist() == [True, False, False, True]


def test_a_concept_is_evaluated_once_per_call(
    schema: Schema, concepts: dict[str, Condition], monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    high_toss = concepts["high_toss"]
    original = Condition.evaluate_with_memo

    def counting(self: Condition, table, memo):  # type: ignore[no-untyped-def]
        calls.append(self.text)
        return original(self, table, memo)

    monkeypatch.setattr(Condition, "evaluate_with_memo", counting)
    condition = compile_condition("high_toss and (high_toss or risky)", schema, concepts)
    condition.evaluate(table_from_rows(schema, ROWS))
    assert calls.count(high_toss.text) == 1


def test_the_result_is_a_fresh_bool_array(schema: Schema, concepts: dict[str, Condition]) -> None:
    table = table_from_rows(schema, ROWS)
    condition = compile_condition("high_toss", schema, concepts)
    first = condition.evaluate(table)
    first[:] = False
    assert first.dtype == np.bool_
    assert condition.evaluate(table).tolist() == [False, True, True, False]
    assert table.columns["fatigued"].tolist() == [True, False, True, False]


def test_a_value_that_is_not_a_choice_matches_no_choice(schema: Schema) -> None:
    table = table_from_rows(schema, [serve_row(serve_type="smash")])
    assert compile_condition('serve_type in ["jump", "float", "underhand"]', schema).evaluate(
        table
    ).tolist() == [False]


def test_an_empty_table(schema: Schema) -> None:
    result = compile_condition("fatigued and elbow_angle > 3", schema).evaluate_rows([])
    assert result.shape == (0,)


def test_it_is_vectorised_over_many_rows(schema: Schema) -> None:
    rng = np.random.default_rng(0)
    n = 100_000
    columns = {
        "toss_height_cm": rng.uniform(0, 200, n),
        "elbow_angle": rng.normal(90, 20, n),
        "serve_type": rng.integers(0, 3, n).astype(np.int32),
        "fatigued": rng.random(n) < 0.5,
    }
    from mola.engine.table import Table

    table = Table(columns=columns, n_rows=n)
    condition = compile_condition(
        'toss_height_cm > 60 and serve_type != "jump" or fatigued and elbow_angle < 80', schema
    )
    expected = (columns["toss_height_cm"] > 60) & (columns["serve_type"] != 0) | (
        columns["fatigued"] & (columns["elbow_angle"] < 80)
    )
    assert np.array_equal(condition.evaluate(table), expected)
    assert np.array_equal(condition.region.contains_table(table), expected)
