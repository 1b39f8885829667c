"""No snapshot, however thin or odd, makes fit, predict or explain fail."""

from __future__ import annotations

import json

import numpy as np
import pytest

from mola.engine.learning import ExampleSpec, Snapshot, TaughtModel, fit
from mola.engine.schema import Schema
from tests.engine.conftest import SERVE_FEATURES
from tests.engine.learning.learning_kit import (
    FRONT,
    KNEES,
    NONE,
    concept,
    example,
    rows,
    rule,
    snapshot,
)

ONE_LABEL = Schema.from_dicts(SERVE_FEATURES, [{"name": FRONT}])
NO_LABELS = Schema.from_dicts(SERVE_FEATURES, [])

CASES = {
    "empty": snapshot(),
    "only a concept": snapshot(concepts=[concept()]),
    "one example": snapshot(examples=[example(1, FRONT)]),
    "two identical examples, two labels": snapshot(examples=[example(1, FRONT), example(2, KNEES)]),
    "one label used by many examples": snapshot(
        examples=[example(i, NONE, toss_height_cm=float(i)) for i in range(40)]
    ),
    "only evaluation examples": snapshot(examples=[example(1, FRONT, evaluation=True)]),
    "labels outside the schema": snapshot(
        rules=[rule(1, "fatigued", "shrug")], examples=[example(3, "shrug"), example(4, FRONT)]
    ),
    "odd precedences": snapshot(
        rules=[rule(1, "fatigued", FRONT), rule(2, "fatigued", NONE)],
        precedences=[(1, 1), (1, 99), (98, 2), (1, 2), (1, 2), (2, 1)],
    ),
    "duplicate ids": snapshot(
        rules=[rule(1, "fatigued", FRONT), rule(1, "not fatigued", NONE)],
        examples=[example(5, FRONT), example(5, NONE)],
    ),
    "a rule that never fires": snapshot(rules=[rule(1, "toss_height_cm > 500", FRONT)]),
    "a rule that always fires": snapshot(rules=[rule(1, "true", FRONT)]),
    "missing and mistyped feature values": snapshot(
        examples=[
            ExampleSpec(1, {"toss_height_cm": "high", "serve_type": 3}, FRONT, "eve", "novice"),
            ExampleSpec(2, {}, NONE, "eve", "novice"),
            ExampleSpec(3, {"fatigued": 1, "elbow_angle": True}, NONE, "eve", "whoever"),
        ]
    ),
    "one label in the schema": Snapshot(
        schema=ONE_LABEL, rules=(), examples=(example(1, FRONT), example(2, FRONT))
    ),
    "no labels in the schema": Snapshot(schema=NO_LABELS, examples=(example(1, FRONT),)),
}


@pytest.mark.parametrize("name", list(CASES))
def test_it_trains_predicts_explains_and_stores(name):
    model = fit(CASES[name], random_state=0)
    table = rows({}, {"toss_height_cm": 100.0, "fatigued": True}, schema=CASES[name].schema)
    probabilities = model.predict_proba(table)
    assert probabilities.shape == (2, len(model.labels_))
    assert np.isfinite(probabilities).all()
    if model.labels_:
        np.testing.assert_allclose(probabilities.sum(axis=1), 1.0)
    assert len(model.predict(table)) == 2
    assert len(model.explain(table)) == 2
    json.dumps(model.metrics_)
    json.dumps([e.as_dict() for e in model.explain(table)])
    again = TaughtModel.from_bytes(model.to_bytes())
    np.testing.assert_array_equal(again.predict_proba(table), probabilities)


def test_an_empty_table_gets_empty_answers():
    model = fit(CASES["one label used by many examples"], random_state=0)
    empty = rows()
    assert model.predict_proba(empty).shape == (0, 3)
    assert model.predict(empty) == [] and model.explain(empty) == []


def test_with_a_single_label_every_answer_is_certain():
    model = fit(CASES["one label in the schema"], random_state=0)
    assert model.predict(rows({}, schema=ONE_LABEL)) == [FRONT]
    assert model.predict_proba(rows({}, schema=ONE_LABEL))[0, 0] == 1.0


def test_teachings_with_unknown_labels_are_left_out():
    model = fit(CASES["labels outside the schema"], random_state=0)
    assert model.metrics_["n_rules"] == 0 and model.metrics_["n_examples"] == 1
