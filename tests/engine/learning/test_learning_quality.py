"""MOLA is at least as good as the "rules as features" baseline on small generated worlds (one
per bench/quality.py family, 150 examples): a random forest on the case's values and one
0/1 column per rule and concept, tuned out of bag on the same examples. The full comparison,
five seeds and four scales, is bench/quality.py; this fails when the learner falls below."""

from __future__ import annotations

import numpy as np
import pytest

from bench._quality_baselines import firing, predicted, tuned_forest, values
from bench._quality_world import FAMILIES, build
from mola.engine.learning import fit
from mola.engine.table import table_from_rows

SEED = 11
EXAMPLES = 150


def _accuracies(family: str) -> tuple[float, float]:
    """(MOLA, the tuned rules-as-features forest) on 1,000 fresh cases of one world."""
    teaching = build(family, SEED, EXAMPLES)
    schema = teaching.schema
    index = {name: i for i, name in enumerate(schema.label_names)}
    cases = teaching.world.sample_rows(1000, np.random.default_rng(5))
    truth = np.array([index[x] for x in teaching.world.true_labels(cases)])
    test = table_from_rows(schema, cases)
    snapshot = teaching.snapshot(EXAMPLES)
    model = fit(snapshot, random_state=0)
    mola = float((np.array([index[x] for x in model.predict(test)]) == truth).mean())
    conditions = [r.condition for r in teaching.rules] + [c.condition for c in teaching.concepts]
    training = [e for e in snapshot.examples if not e.evaluation]
    train = table_from_rows(schema, [e.features for e in training])
    y = np.array([index[e.label] for e in training])
    x = np.hstack([values(schema, train), firing(conditions, train)])
    x_test = np.hstack([values(schema, test), firing(conditions, test)])
    baseline = float((predicted(tuned_forest(x, y, 0, 100), x_test) == truth).mean())
    return mola, baseline


@pytest.fixture(scope="module")
def scores() -> dict[str, tuple[float, float]]:
    return {family: _accuracies(family) for family in FAMILIES}


def test_mola_is_not_below_rules_as_features_on_average(scores):
    mola = np.mean([m for m, _ in scores.values()])
    baseline = np.mean([b for _, b in scores.values()])
    assert mola >= baseline, scores


def test_mola_is_never_far_below_rules_as_features(scores):
    # One small world can go either way by a little (1,000 cases, one seed); never by much.
    for family, (mola, baseline) in scores.items():
        assert mola > baseline - 0.03, (family, scores)
