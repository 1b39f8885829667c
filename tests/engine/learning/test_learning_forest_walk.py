"""The forest in flat arrays answers bit for bit as scikit-learn does: for a few rows (its
own walk), for many (scikit-learn's leaves, summed in its order), and for a row with one
column switched off, walking again only the trees that test that column on the row."""

from __future__ import annotations

import numpy as np
import pytest

from mola.engine.learning import forest_walk
from mola.engine.learning.forest import ExampleTrees
from tests.engine.learning.test_learning_trees import SCHEMA, _features


def _fitted(rng: np.random.Generator, n_labels: int = 3, noise: int = 30) -> ExampleTrees:
    x = _with_noise(rng, 600, noise)
    y = ((x[:, 0] > 0) + 2 * (x[:, 1] == 1) + (x[:, 3] > 0.5)).astype(np.int64) % n_labels
    trees = ExampleTrees(SCHEMA, np.zeros(0, np.int64), np.zeros(0, np.int64), 3)
    trees.fit(x, y, seed=0)
    return trees


def _with_noise(rng: np.random.Generator, n: int, noise: int = 30) -> np.ndarray:
    """_features and ``noise`` more 0/1 columns that say nothing of the label."""
    return np.column_stack([_features(rng, n), rng.random((n, noise)) < 0.5]).astype(np.float32)


@pytest.mark.parametrize("n_labels", [2, 3])
def test_a_few_rows_and_many_get_scikit_learns_very_probabilities(n_labels):
    trees = _fitted(np.random.default_rng(n_labels), n_labels)
    queries = _with_noise(np.random.default_rng(9), 300)
    queries[:5, 0] = np.nan
    queries[5:10, 0] = [-50, 50, 0, 1e30, -1e-30]  # beyond anything seen in fitting
    few = queries[: forest_walk.SMALL_WALK]  # walked in numpy
    by_sklearn = trees.model.predict_proba(queries)
    np.testing.assert_array_equal(trees.probabilities(few)[:, :n_labels], by_sklearn[: len(few)])
    for row in range(12):  # one at a time: walked in plain Python
        one = trees.probabilities(queries[row : row + 1])[:, :n_labels]
        np.testing.assert_array_equal(one, by_sklearn[row : row + 1])
    np.testing.assert_array_equal(trees.probabilities(queries)[:, :n_labels], by_sklearn)
    assert np.ptp(by_sklearn[:, 0]) > 0.1  # the forest did learn something to agree on


def test_the_columns_read_are_those_some_tree_tests_on_the_row():
    trees = _fitted(np.random.default_rng(5))
    walker = trees.walker()
    queries = _with_noise(np.random.default_rng(6), 300)
    bits = walker.columns_read(walker.leaves(queries))
    read = np.unpackbits(bits, axis=1)[:, : queries.shape[1]].astype(bool)
    roots = {int(tree.tree_.feature[0]) for tree in trees.model.estimators_}
    assert all(read[:, root].all() for root in roots)  # every row passes every root
    assert not read.all()  # and some columns go untested on some rows
    flipped = queries.copy()
    flipped[~read] = np.where(flipped[~read] == 1, 0, 1)  # any other value
    np.testing.assert_array_equal(trees.probabilities(flipped), trees.probabilities(queries))


@pytest.mark.parametrize("python", [False, True])
def test_a_switched_column_is_walked_again_only_where_a_tree_tests_it(monkeypatch, python):
    """In numpy, and in plain Python (as a few rows' walks go: PYTHON_SWITCHED)."""
    monkeypatch.setattr(forest_walk, "PYTHON_SWITCHED", 10**9 if python else 0)
    trees = _fitted(np.random.default_rng(7))
    walker = trees.walker()
    rng = np.random.default_rng(8)
    x = _with_noise(rng, 200)
    x[:20, 0] = np.nan  # where the split sends missing values
    leaves = walker.leaves(x)
    rows = rng.integers(0, len(x), 3000)  # rows repeat, as (rule, row) pairs do
    columns = rng.integers(0, x.shape[1], 3000)
    changed, walked = walker.switched_leaves(x, leaves, rows, columns)
    switched = x[rows]
    switched[np.arange(len(rows)), columns] = 0
    expected = trees.model.predict_proba(switched)
    got = walker.probabilities(leaves[rows])
    got[changed] = walker.probabilities(walked)
    np.testing.assert_array_equal(got, expected)
    assert 0 < changed.mean() < 1  # some pairs kept their leaves in every tree
    moved = (expected != walker.probabilities(leaves[rows])).any(axis=1)
    assert (changed >= moved).all()
