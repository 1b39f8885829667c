"""Examples carve exceptions locally; evaluation examples are never trained on."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from mola.engine.learning import neighbours
from tests.engine.learning.learning_kit import (
    FRONT,
    KNEES,
    NONE,
    example,
    predict_one,
    rows,
    rule,
    trained,
)

RULE = rule(1, "toss_height_cm > 60", FRONT)
COUNTER = example(50, NONE, refutes=1, toss_height_cm=70.0, elbow_angle=150.0)


def test_a_counterexample_changes_predictions_near_itself_only():
    model = trained(rules=[RULE], examples=[COUNTER])
    assert predict_one(model, toss_height_cm=70.0, elbow_angle=150.0) == NONE
    assert predict_one(model, toss_height_cm=72.0, elbow_angle=149.0) == NONE
    # Same rule region, far from the counterexample: the rule still decides.
    assert predict_one(model, toss_height_cm=180.0, elbow_angle=90.0) == FRONT
    assert predict_one(model, toss_height_cm=70.0, serve_type="jump", fatigued=True) == FRONT


def test_a_counterexample_stays_local_among_many_confirming_examples():
    confirming = [
        example(100 + i, FRONT, toss_height_cm=65.0 + 6 * (i % 20), elbow_angle=60.0 + 3 * i)
        for i in range(30)
    ]
    model = trained(rules=[RULE], examples=[*confirming, COUNTER])
    assert model.metrics_["n_cv"] > 0  # enough examples to choose the settings on them
    assert predict_one(model, toss_height_cm=70.0, elbow_angle=150.0) == NONE
    assert predict_one(model, toss_height_cm=190.0, elbow_angle=10.0) == FRONT


def test_examples_alone_teach_a_model():
    examples = [example(i, FRONT, toss_height_cm=100.0 + i) for i in range(5)]
    examples += [example(10 + i, KNEES, toss_height_cm=10.0 + i) for i in range(5)]
    model = trained(examples=examples)
    assert predict_one(model, toss_height_cm=101.5) == FRONT
    assert predict_one(model, toss_height_cm=11.5) == KNEES


def test_far_from_every_example_and_rule_the_label_prior_speaks():
    examples = [example(i, KNEES, toss_height_cm=10.0 + i) for i in range(3)]
    model = trained(examples=examples)
    far = model.predict_proba(rows({"toss_height_cm": 200.0, "serve_type": "jump"}))[0]
    # The label frequencies with one pseudo-count each: (3 + 1) / (3 + 3) for KNEES.
    np.testing.assert_allclose(far, [1 / 6, 1 / 6, 4 / 6])


def test_evaluation_examples_are_never_trained_on():
    training = [example(i, FRONT, toss_height_cm=100.0 + i) for i in range(3)]
    held_out = [example(20 + i, FRONT, evaluation=True, toss_height_cm=30.0 + i) for i in range(25)]
    relabelled = [dataclasses.replace(e, label=KNEES) for e in held_out]
    a = trained(rules=[RULE], examples=[*training, *held_out])
    b = trained(rules=[RULE], examples=[*training, *relabelled])
    grid = rows(*({"toss_height_cm": float(t)} for t in range(0, 200, 7)))
    np.testing.assert_array_equal(a.predict_proba(grid), b.predict_proba(grid))
    assert a.metrics_["n_examples"] == 3 and a.metrics_["n_evaluation"] == 25
    assert a.metrics_["accuracy"] != b.metrics_["accuracy"]
    nearest = {e["id"] for x in a.explain(grid) for e in x.examples}
    assert nearest <= {0, 1, 2}


def test_a_disputed_example_pulls_less():
    plain = trained(rules=[RULE], examples=[COUNTER])
    disputed = trained(rules=[RULE], examples=[dataclasses.replace(COUNTER, disputed=True)])
    here = rows({"toss_height_cm": 70.0, "elbow_angle": 150.0})
    assert disputed.predict_proba(here)[0, 1] < plain.predict_proba(here)[0, 1]
    assert disputed.explain(here)[0].examples[0]["disputed"] is True


# With enough examples (boosting.MIN_TREE_EXAMPLES) boosted trees join the kernel; the
# promises above must still hold with them.
MANY_CONFIRMING = [
    example(
        200 + i,
        FRONT if i % 2 else KNEES,
        toss_height_cm=(61.0 + 2.5 * (i % 50)) if i % 2 else (1.0 + 1.1 * (i % 50)),
        elbow_angle=40.0 + (i * 37) % 120,
        serve_type=("jump", "float", "underhand")[i % 3],
    )
    for i in range(200)
]


def test_with_many_examples_the_trees_learn_and_take_part():
    model = trained(examples=MANY_CONFIRMING)
    assert model.trees_ is not None and model.metrics_["parameters"]["tree_mass"] > 0
    assert predict_one(model, toss_height_cm=150.0, elbow_angle=100.0) == FRONT
    assert predict_one(model, toss_height_cm=20.0, elbow_angle=100.0) == KNEES


def test_a_counterexample_stays_local_when_the_trees_take_part():
    model = trained(rules=[RULE], examples=[*MANY_CONFIRMING, COUNTER])
    assert model.trees_ is not None
    assert predict_one(model, toss_height_cm=70.0, elbow_angle=150.0) == NONE
    assert predict_one(model, toss_height_cm=71.0, elbow_angle=151.0) == NONE
    assert predict_one(model, toss_height_cm=150.0, elbow_angle=60.0) == FRONT
    explained = model.explain(rows({"toss_height_cm": 70.0, "elbow_angle": 150.0}))[0]
    assert explained.examples[0]["id"] == COUNTER.id  # the nearest teaching example is named


def test_a_counterexamples_veto_reaches_only_as_far_as_the_narrowest_kernel():
    """blending.veto_reach: a wider kernel chosen on held-out rows does not widen the veto."""
    model = trained(rules=[RULE], examples=[*MANY_CONFIRMING, COUNTER])
    chosen = model.metrics_["parameters"]
    assert 0 < chosen["veto_reach"] <= chosen["bandwidth"]
    assert model.veto_reach_ == pytest.approx(chosen["veto_reach"], abs=1e-6)
    assert predict_one(model, toss_height_cm=70.0, elbow_angle=150.0) == NONE


def test_far_from_every_example_the_rules_speak_even_with_trees():
    # Examples only of short tosses; a rule about the highest tosses, where none was given.
    short = [e for e in MANY_CONFIRMING if e.features["toss_height_cm"] < 60]
    short += [
        example(500 + i, NONE, toss_height_cm=30.0 + (i % 25), elbow_angle=170.0 + i % 9)
        for i in range(60)
    ]
    top = rule(2, "toss_height_cm > 180", FRONT)
    model = trained(rules=[top], examples=short)
    assert model.trees_ is not None
    assert predict_one(model, toss_height_cm=195.0, elbow_angle=100.0) == FRONT
    without_rule = trained(examples=short)
    assert predict_one(without_rule, toss_height_cm=195.0, elbow_angle=100.0) != FRONT


def test_beyond_the_cap_a_sample_is_stored_with_every_counterexample(monkeypatch):
    monkeypatch.setattr(neighbours, "MAX_STORED_EXAMPLES", 60)
    model = trained(rules=[RULE], examples=[*MANY_CONFIRMING, COUNTER])
    stored = set(model.examples_.ids.tolist())
    assert len(stored) == 60 and COUNTER.id in stored
    assert model.metrics_["n_examples"] == len(MANY_CONFIRMING) + 1
    assert predict_one(model, toss_height_cm=70.0, elbow_angle=150.0) == NONE
    assert predict_one(model, toss_height_cm=150.0, elbow_angle=60.0) == FRONT
    explained = model.explain(rows({"toss_height_cm": 150.0}))[0]
    assert {e["id"] for e in explained.examples} <= stored
    again = trained(rules=[RULE], examples=[*MANY_CONFIRMING, COUNTER])
    np.testing.assert_array_equal(again.examples_.ids, model.examples_.ids)  # seeded


def test_a_model_stored_before_the_trees_still_answers():
    model = trained(rules=[RULE], examples=[*MANY_CONFIRMING, COUNTER])
    state = dict(model.__dict__)
    del state["trees_"]  # what an artefact pickled before the trees holds
    old = object.__new__(type(model))
    old.__dict__.update(state)
    again = type(model).from_bytes(old.to_bytes())
    assert again.trees_ is None
    here = rows({"toss_height_cm": 150.0, "elbow_angle": 60.0})
    np.testing.assert_allclose(again.predict_proba(here).sum(), 1.0)
    assert again.explain(here)[0].label == FRONT
