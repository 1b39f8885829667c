"""Probabilities are calibrated on a generated problem, and the metrics say so."""

from __future__ import annotations

import json

import numpy as np
import pytest

from bench.synthetic import synthetic_snapshot
from mola.engine.learning import fit
from mola.engine.learning.scoring import expected_calibration_error
from mola.engine.table import table_from_rows

METRIC_KEYS = {
    "accuracy",
    "macro_f1",
    "cv_accuracy",
    "ece",
    "n_rules",
    "n_examples",
    "n_concepts",
    "training_seconds",
    "teaching_revision",
    "timings",
    "rules",
}


@pytest.fixture(scope="module")
def generated():
    world, snapshot = synthetic_snapshot("S", seed=3)
    return world, snapshot, fit(snapshot, random_state=0)


def test_metrics_are_complete_and_json(generated):
    _, snapshot, model = generated
    metrics = model.metrics_
    assert set(metrics) >= METRIC_KEYS
    assert set(metrics["timings"]) == {"snapshot_to_arrays", "fit", "trees", "metrics"}
    assert metrics["teaching_revision"] == snapshot.revision
    assert metrics["n_rules"] == len(snapshot.rules)
    assert len(metrics["rules"]) == len(snapshot.rules)
    json.dumps(metrics)


def test_the_model_is_calibrated_on_held_out_cases(generated):
    # Thresholds: what the learner scores (ece 0.061, cv_accuracy 0.885, accuracy 0.938,
    # fresh ECE 0.116) less a small margin, so that a real regression fails.
    world, snapshot, model = generated
    assert model.metrics_["ece"] < 0.08
    assert model.metrics_["cv_accuracy"] > 0.86
    assert model.metrics_["accuracy"] is not None and model.metrics_["macro_f1"] is not None
    rows = world.sample_rows(3000, np.random.default_rng(11))
    truth = np.array([model.labels_.index(label) for label in world.true_labels(rows)])
    probabilities = model.predict_proba(table_from_rows(snapshot.schema, rows))
    assert (probabilities.argmax(axis=1) == truth).mean() > 0.92
    # Fresh cases carry no label noise, so the model may be a little under-confident there.
    assert expected_calibration_error(probabilities, truth) < 0.13


def test_ece_is_zero_for_perfect_confidence_and_large_for_confident_mistakes():
    truth = np.array([0, 1, 0, 1])
    right = np.eye(2)[truth]
    assert expected_calibration_error(right, truth) == 0
    assert expected_calibration_error(right[::-1], truth) == 1
    assert expected_calibration_error(right[:0], truth[:0]) is None
