"""The boosted trees of the example side: the numpy walk for a few rows answers exactly as
scikit-learn does; their features never carry an example's own label."""

from __future__ import annotations

import numpy as np
import pytest

from mola.engine.learning import boosting
from mola.engine.learning.boosting import ExampleTrees, prior_vote_matrix
from mola.engine.schema import Schema

SCHEMA = Schema.from_dicts(
    [
        {"name": "height", "kind": "number"},
        {"name": "kind", "kind": "category", "choices": ["a", "b", "c", "d", "e"]},
        {"name": "tired", "kind": "boolean"},
    ],
    [{"name": "x"}, {"name": "y"}, {"name": "z"}],
)


def _features(rng: np.random.Generator, n: int, *, codes: int = 4) -> np.ndarray:
    """Tree features as ``ExampleTrees.encode`` makes them: a number with missing values,
    0/1 columns, three rule-vote columns."""
    x = np.column_stack(
        [
            rng.normal(size=n),
            rng.integers(0, codes, n) == 2,
            rng.integers(0, 2, n).astype(float),
            rng.random((n, 3)),
        ]
    ).astype(np.float32)
    x[rng.random(n) < 0.1, 0] = np.nan
    return x


@pytest.mark.parametrize("n_labels", [2, 3])
def test_the_numpy_walk_gives_scikit_learns_probabilities(n_labels):
    rng = np.random.default_rng(n_labels)
    x = _features(rng, 600)
    y = ((x[:, 0] > 0) + 2 * (x[:, 1] == 1) + (x[:, 3] > 0.7)).astype(np.int64) % n_labels
    trees = ExampleTrees(SCHEMA, np.zeros(0, np.int64), np.zeros((0, 3)), 3)
    trees.fit(x, y, seed=0)
    queries = _features(np.random.default_rng(9), boosting.SMALL_BATCH)
    queries[:5, 0] = np.nan
    queries[5:10, 0] = [-50, 50, 0, 1e30, -1e-30]  # beyond anything seen in fitting
    walked = trees.probabilities(queries)
    by_sklearn = trees.probabilities(np.vstack([queries, queries]))[: len(queries)]
    np.testing.assert_allclose(walked, by_sklearn, rtol=0, atol=1e-12)
    assert np.ptp(walked[:, 0]) > 0.1  # the trees did learn something to agree on


def test_rule_votes_as_features_use_the_authors_prior_only():
    # The same rules with the same authors vote the same whatever the examples say.
    prior = np.array([[7.0, 1.0], [1.4, 0.6]])
    votes = prior_vote_matrix(np.array([0, 2]), prior, np.ones(2), 3)
    np.testing.assert_allclose(votes[0], [0.875, 0.0625, 0.0625])
    np.testing.assert_allclose(votes[1], [0.15, 0.15, 0.7])


@pytest.mark.parametrize("quick", [False, True])
def test_a_label_with_a_single_example_does_not_stop_the_trees(quick, monkeypatch):
    # Early stopping splits off a stratified tenth; one lone example of a label cannot be
    # split, so the trees fit without it rather than fail the whole training.
    monkeypatch.setattr(boosting, "EARLY_STOPPING_ROWS", 100)
    rng = np.random.default_rng(0)
    x = _features(rng, 300)
    y = (x[:, 0] > 0).astype(np.int64)
    y[7] = 2
    trees = ExampleTrees(SCHEMA, np.zeros(0, np.int64), np.zeros((0, 3)), 3)
    trees.fit(x, y, seed=0, quick=quick)
    assert trees.probabilities(x[:3]).shape == (3, 3)
