"""The boosting member beside the forest (forest_boost.py): fitted only where examples are
150-4,000, its held-out probabilities from fold models that never saw the row, its share
chosen on them, and the forest's answers mixed with it wherever the forest answers."""

from __future__ import annotations

import pickle

import numpy as np

from mola.engine.learning import forest_boost
from mola.engine.learning.forest import ExampleTrees
from mola.engine.schema import Schema

SCHEMA = Schema.from_dicts(
    [{"name": "a", "kind": "number"}, {"name": "b", "kind": "number"}],
    [{"name": "x"}, {"name": "y"}, {"name": "z"}],
)


def _world(n: int, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Two columns; the label is an interaction of both (boosting's kind of world), the
    third column is constant (nothing can split on it)."""
    rng = np.random.default_rng(seed)
    x = rng.random((n, 3)).astype(np.float32)
    x[:, 2] = 0.5
    y = (x[:, 0] > 0.5).astype(np.int64) + (x[:, 1] > 0.3 + 0.4 * x[:, 0]).astype(np.int64)
    return x, y


def test_a_member_is_fitted_only_between_150_and_4000_examples():
    assert not forest_boost.wanted(149)  # the held-out choice is unreliable (forest_floor)
    assert forest_boost.wanted(150) and forest_boost.wanted(4_000)
    assert not forest_boost.wanted(4_001)  # the M and L spaces: the refine's time


def test_the_held_out_probabilities_come_from_fold_models_that_never_saw_the_row():
    x, y = _world(1_200)
    uniform = np.full((len(y), 3), 1 / 3)  # a forest that knows nothing
    booster, mixed = forest_boost.cross_fitted(x, y, None, uniform, 0, 3, lambda: None)
    assert booster is not None and booster.share > 0  # it beats knowing nothing
    assert len(booster.models) == forest_boost.BOOST_FOLDS
    np.testing.assert_allclose(mixed.sum(axis=1), 1.0)
    folds = np.random.default_rng(0).permutation(len(y)) % forest_boost.BOOST_FOLDS
    for fold, model in enumerate(booster.models):
        rows = folds == fold
        own = np.zeros((rows.sum(), 3))
        own[:, model.classes_] = model.predict_proba(x[rows])
        np.testing.assert_allclose(mixed[rows], booster.mixed(uniform[rows], own))
    # Held out, not fitted: the mean of the fold models is surer on the rows it saw.
    seen = booster.probabilities(x)[np.arange(len(y)), y].mean()
    assert seen > mixed[np.arange(len(y)), y].mean()
    assert booster.uses[:2].all() and not booster.uses[2]


def test_a_member_no_better_than_the_forest_is_not_kept():
    x, y = _world(1_200)
    exact = np.eye(3)[y]  # a forest already right everywhere, and sure of it
    booster, mixed = forest_boost.cross_fitted(x, y, None, exact, 0, 3, lambda: None)
    assert booster is None and mixed is exact


def test_the_forest_answers_with_its_member_and_keeps_it_when_stored(monkeypatch):
    monkeypatch.setattr(forest_boost, "BOOST_SHARES", (0.5,))  # kept, whatever it is worth
    x, y = _world(1_500)
    trees = ExampleTrees(SCHEMA, np.zeros(0, np.int64), np.zeros(0, np.int64), 3)
    oob = trees.fit(x, y, seed=0)
    alone = trees.probabilities(x)
    trees.booster, _ = forest_boost.cross_fitted(x, y, None, oob, 0, 3, lambda: None)
    assert trees.booster is not None
    both = trees.probabilities(x)
    np.testing.assert_allclose(both, trees.booster.mixed(alone, trees.booster.probabilities(x)))
    assert not np.allclose(both, alone)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(trees)).probabilities(x), both)


def test_the_flat_walk_answers_as_scikit_learn_does(monkeypatch):
    """A few rows are walked in numpy (Booster._raw), many by scikit-learn: the same
    probabilities, missing values included."""
    x, y = _world(1_200)
    x[::7, 0] = np.nan
    booster, _ = forest_boost.cross_fitted(
        x, y, None, np.full((len(y), 3), 1 / 3), 0, 3, lambda: None
    )
    rows = x[:50]
    walked = booster.probabilities(rows)
    monkeypatch.setattr(forest_boost, "SMALL_WALK", 0)
    np.testing.assert_allclose(walked, booster.probabilities(rows), rtol=1e-9, atol=1e-12)
    assert pickle.loads(pickle.dumps(booster))._flat is None


def _scikit_learn(booster: forest_boost.Booster, x: np.ndarray) -> np.ndarray:
    """The fold models' mean probabilities through scikit-learn's own predict_proba."""
    out = np.zeros((len(x), booster.n_labels))
    with forest_boost._limited(1):
        for model in booster.models:
            out[:, model.classes_] += model.predict_proba(x)
    return out / len(booster.models)


def test_big_batches_and_switched_columns_answer_as_scikit_learn_does():
    """Many rows through the member's own per-tree predictors (BoostWalk), bit for bit as
    scikit-learn; and for every (row, column) pair with that column switched to 0, only
    the trees that test it on the row's path walked again: scikit-learn's probabilities
    with the column set to 0, within rounding (exactly where nothing moved). Several
    columns at once likewise (the deciding rules' variants)."""
    rng = np.random.default_rng(5)
    n = 900
    rules = rng.random((n, 3)) < 0.4  # 0/1 columns, as a rule's
    x = np.column_stack([rng.random(n), rng.random(n), rules]).astype(np.float32)
    x[::9, 0] = np.nan
    y = ((x[:, 0] > 0.5) ^ rules[:, 0]).astype(np.int64) + (rules[:, 1] & (x[:, 1] > 0.3))
    booster, _ = forest_boost.cross_fitted(x, y, None, np.full((n, 3), 1 / 3), 0, 3, lambda: None)
    assert booster is not None
    rows = x[:300]  # more than SMALL_WALK: the per-tree predictors
    own = booster.probabilities(rows)
    np.testing.assert_array_equal(own, _scikit_learn(booster, rows))
    walker = booster.walker()
    values = walker.tree_values(rows)
    leaves = walker.leaves_of(rows, values)
    everywhere = np.repeat(np.arange(len(rows)), len(walker.roots))
    walked = walker._walk(rows, everywhere, np.tile(walker.roots, len(rows)))
    np.testing.assert_array_equal(leaves, walked.reshape(len(rows), -1))
    raw = walker.raw(values)
    columns = np.flatnonzero(booster.uses)
    assert len(columns) == 5
    at = np.repeat(np.arange(len(rows)), len(columns))
    off = np.tile(columns, len(rows))
    changed, switched = walker.switched_raw(rows, leaves, raw, at, off)
    got = own[at]
    got[changed] = booster.from_raw(switched)
    switched_x = rows[at]
    switched_x[np.arange(len(at)), off] = 0
    expected = _scikit_learn(booster, switched_x)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(got[~changed], expected[~changed])
    assert changed.any() and not changed.all()
    assert (np.abs(got[changed] - own[at[changed]]).max(axis=1) > 1e-6).any()
    # The three 0/1 columns switched off together, as a row's deciding rules are.
    together = rows.copy()
    together[:, 2:] = 0
    cells = np.repeat(np.arange(len(rows)), 3)
    raw_together = walker.changed_raw(together, leaves, raw, cells, np.tile([2, 3, 4], len(rows)))
    np.testing.assert_allclose(
        booster.from_raw(raw_together), _scikit_learn(booster, together), rtol=0, atol=1e-12
    )
