"""A stored model answers exactly as the trained one; a seed makes training repeatable."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from bench.synthetic import synthetic_snapshot
from mola.engine.learning import TaughtModel, fit
from mola.engine.table import table_from_rows


@pytest.fixture(scope="module")
def generated():
    world, snapshot = synthetic_snapshot((40, 12, 600), seed=5)
    rows = world.sample_rows(300, np.random.default_rng(2))
    return snapshot, table_from_rows(snapshot.schema, rows)


def test_a_round_trip_through_bytes_predicts_and_explains_identically(generated):
    snapshot, table = generated
    model = fit(snapshot, random_state=0)
    stored = model.to_bytes()
    again = TaughtModel.from_bytes(stored)
    np.testing.assert_array_equal(again.predict_proba(table), model.predict_proba(table))
    assert [e.as_dict() for e in again.explain(table)] == [
        e.as_dict() for e in model.explain(table)
    ]
    assert again.metrics_ == model.metrics_
    # The matcher's tests (pickled as plain values) give every rule's and concept's rows.
    for before, after in zip(model.matcher_.masks(table), again.matcher_.masks(table), strict=True):
        np.testing.assert_array_equal(after, before)
    assert again.rule_reliability_ == model.rule_reliability_
    # Examples, arrays and metadata; no copies of the snapshot. The forest comes on top: its
    # nodes (about 80 bytes, and a probability per label), no training rows.
    trees = len(pickle.dumps(model.trees_))
    assert len(stored) - trees < 400_000
    # Its boosting member (forest_boost.py), when it has one: ~60 bytes a node, a bin
    # mapper per fold model, no training rows.
    booster = model.trees_.booster
    member = len(pickle.dumps(booster)) if booster is not None else 0
    if booster is not None:
        member_nodes = sum(
            len(tree.nodes) for fold in booster.models for step in fold._predictors for tree in step
        )
        assert member < member_nodes * 80 + 20_000 * len(booster.models)
    nodes = sum(tree.tree_.node_count for tree in model.trees_.model.estimators_)
    assert trees - member < nodes * (80 + 8 * len(model.labels_)) + 100_000


def test_something_else_is_refused():
    with pytest.raises(ValueError):
        TaughtModel.from_bytes(__import__("pickle").dumps((99, "model")))


def test_the_same_seed_gives_the_same_model(generated):
    snapshot, table = generated
    a, b = fit(snapshot, random_state=4), fit(snapshot, random_state=4)
    np.testing.assert_array_equal(a.predict_proba(table), b.predict_proba(table))
    untimed = {"timings", "training_seconds"}
    assert {k: v for k, v in a.metrics_.items() if k not in untimed} == {
        k: v for k, v in b.metrics_.items() if k not in untimed
    }


def test_another_seed_changes_little(generated):
    # The seed draws the held-out sample and the forest's bootstraps; reliabilities move
    # only through the authors' discounts the forest finds (authors.py).
    snapshot, table = generated
    a, b = fit(snapshot, random_state=1), fit(snapshot, random_state=2)
    for rule, rho in a.rule_reliability_.items():
        assert abs(rho - b.rule_reliability_[rule]) < 0.05
    agreement = (a.predict_proba(table).argmax(1) == b.predict_proba(table).argmax(1)).mean()
    assert agreement > 0.9
