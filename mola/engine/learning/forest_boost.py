"""A boosting member beside the forest, on the same columns, where examples are 150-4,000.

    p_forest(x) = (1 − b) · p_random_forest(x) + b · p_boosting(x)

Why: on bench/quality.py's ``broad`` worlds at 2,000 examples a random forest on the
values, rules and concepts stops 1-2 points below gradient boosting on the same columns (seed
2: MOLA's forest alone 0.924, its blend 0.917, the boosting baseline 0.936; no choice of the
blend's settings reached it — the best of all 240 on the test cases 0.9225). Boosting with
the authors' discounts as example weights, on MOLA's own forest columns, scored 0.94-0.957
there. Where it does not help, its share is chosen 0.

How: ``BOOST_FOLDS`` models, each fitted on the other folds (cross-fitting): each training
row's held-out probability is its fold's model's, so the share ``b`` is chosen on honest
probabilities beside the forest's out-of-bag ones (least log loss, rows weighted by their
authors' discounts, as the blend is chosen), and the member answers with the mean of the
fold models — no extra fit on all rows. ``b`` = 0 keeps no member.

Where: from ``blending.FLOOR_ENOUGH`` (150) training examples, below which a choice made on
held-out rows is known to be unreliable (blending.forest_floor; broad at 50, seed 2, with a
member its share was chosen ¼ and the model fell 0.680 -> 0.633), to ``BOOST_ROWS[1]``:
beyond (the M and L spaces, whose refine must be served within two seconds) none is fitted.
Nor in a quick retrain's refit (forest_fitting.refit_trees): the refine brings it back.

Cost: three fits on two thirds of the rows (``BOOST_SETTING``), 0.65-0.8 s of CPU in all at
2,000 examples, ~0.3 s at 500.

Explaining: a rule's column switched off is read again by the member too (deciding.py):
only its trees that test that column on the row's path are walked again
(forest_boost_walk.py), as forest_walk.py does for the random forest.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from mola.engine.learning.blending import FLOOR_ENOUGH
from mola.engine.learning.forest import ExampleTrees, go_on
from mola.engine.learning.forest_boost_walk import BoostWalk
from mola.engine.learning.scoring import log_loss

BOOST_ROWS = (FLOOR_ENOUGH, 4_000)  # training examples: fitted from the first to the second
BOOST_FOLDS = 3
BOOST_SETTING = {
    "learning_rate": 0.1,
    "max_iter": 50,
    "max_leaf_nodes": 7,
    "min_samples_leaf": 3,
    "max_bins": 32,
}
BOOST_SHARES = (0.0, 0.25, 0.5, 0.75, 1.0)
SMALL_WALK = 64  # rows up to which the member's trees are walked in numpy (Booster)

_controller = None


def _limited(threads: int):
    """OpenMP limited to ``threads``. Boosting uses every core otherwise, and its threads
    spin while they wait: one fit on 1,890 rows took 28.6 s of CPU (125 s wall) with the
    default threads on the shared 2-core machine at load 8, 0.7 s with one (a random forest
    of 100 trees there: 0.66 s). A web process answers many requests at once, and a refine
    shares the cores with the next write's quick retrain: one thread, fit and predict."""
    global _controller
    if _controller is None:
        from threadpoolctl import ThreadpoolController

        _controller = ThreadpoolController()
    return _controller.limit(limits=threads, user_api="openmp")


class Booster:
    """The fold models and the share of the forest's answer they take."""

    def __init__(self, models: list, n_labels: int, width: int) -> None:
        self.models = models
        self.n_labels = n_labels
        self.share = 0.0
        self._flat: tuple | None = None
        self._walker: BoostWalk | None = None
        # Which columns some tree of some model splits on: the others never move its answer.
        self.uses = np.zeros(width, dtype=bool)
        for model in models:
            for per_class in getattr(model, "_predictors", []):
                for predictor in per_class:
                    nodes = predictor.nodes
                    self.uses[nodes["feature_idx"][~nodes["is_leaf"].astype(bool)]] = True

    def __getstate__(self) -> dict:
        # Derived from the models in milliseconds.
        return {**self.__dict__, "_flat": None, "_walker": None}

    def walker(self) -> BoostWalk:
        """The fold models' trees in flat arrays (forest_boost_walk.py), built on first use."""
        if getattr(self, "_walker", None) is None:
            self._walker = BoostWalk(self.models, len(self.uses))
        return self._walker

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        """(rows, n_labels) the fold models' mean probabilities: up to ``SMALL_WALK`` rows
        by a flat numpy walk of every tree at once (scikit-learn's predict costs ~8 µs per
        tree and call, ~7 ms a row for the three models' 900 trees), more by scikit-learn's
        per-tree predictors called directly, summed in its order (BoostWalk: the same
        numbers as its ``predict_proba``, without its input checks and thread setup)."""
        if not len(x):
            return np.zeros((0, self.n_labels))
        if len(x) <= SMALL_WALK:
            return self.from_raw(np.hstack(self._raw(x)))
        walker = self.walker()
        return self.from_raw(walker.raw(walker.tree_values(x)))

    def from_raw(self, raw: np.ndarray) -> np.ndarray:
        """(rows, n_labels) the fold models' mean probabilities from their raw predictions
        side by side (rows, BoostWalk.n_raw), as each model's ``predict_proba`` turns them."""
        out = np.zeros((len(raw), self.n_labels))
        start = 0
        for model in self.models:
            width = model.n_trees_per_iteration_
            part = np.asfortranarray(raw[:, start : start + width])
            out[:, model.classes_] += model._loss.predict_proba(part)
            start += width
        return out / len(self.models)

    def _raw(self, x: np.ndarray) -> list[np.ndarray]:
        """Each model's raw predictions (rows, trees per iteration) as scikit-learn sums
        them: its baseline plus the leaf values of its trees, numbers compared in float64
        (``num_threshold``), a missing value sent where the node says."""
        flat = self._flat if getattr(self, "_flat", None) is not None else self._flatten()
        feature, threshold, missing_left, left, right, leaf, _, roots, _ = flat
        x = np.asarray(x, dtype=np.float64)
        node = np.repeat(roots[None, :], len(x), axis=0)
        rows = np.arange(len(x))[:, None]
        active = ~leaf[node]
        while active.any():
            seen = x[rows, feature[node]]
            go_left = np.where(np.isnan(seen), missing_left[node], seen <= threshold[node])
            node = np.where(active, np.where(go_left, left[node], right[node]), node)
            active = ~leaf[node]
        return self.raw_at(node)

    def raw_at(self, node: np.ndarray) -> list[np.ndarray]:
        """``_raw`` from the leaves (rows, trees) its walk ends in, numbered as its flat
        arrays (and BoostWalk's) number them."""
        flat = self._flat if getattr(self, "_flat", None) is not None else self._flatten()
        value, sums = flat[6], flat[8]
        raw, start = value[node] @ sums, 0
        out = []
        for model in self.models:
            width = model.n_trees_per_iteration_
            out.append(
                np.asfortranarray(raw[:, start : start + width] + model._baseline_prediction)
            )
            start += width
        return out

    def _flatten(self) -> tuple:
        """Every tree's nodes in flat arrays, children as flat positions, and (trees,
        models' raw columns) 0/1: which raw column each tree adds to."""
        nodes, roots, column, offset, start = [], [], [], 0, 0
        for model in self.models:
            for per_class in model._predictors:
                for k, predictor in enumerate(per_class):
                    part = predictor.nodes
                    nodes.append((part, offset))
                    roots.append(offset)
                    column.append(start + k)
                    offset += len(part)
            start += model.n_trees_per_iteration_
        every = np.concatenate([part for part, _ in nodes])
        shift = np.concatenate([np.full(len(part), at) for part, at in nodes])
        sums = np.zeros((len(roots), start))
        sums[np.arange(len(roots)), column] = 1.0
        self._flat = (
            every["feature_idx"].astype(np.int64),
            every["num_threshold"].astype(np.float64),
            every["missing_go_to_left"].astype(bool),
            every["left"].astype(np.int64) + shift,
            every["right"].astype(np.int64) + shift,
            every["is_leaf"].astype(bool),
            every["value"].astype(np.float64),
            np.array(roots, dtype=np.int64),
            sums,
        )
        return self._flat

    def mixed(self, forest: np.ndarray, boosted: np.ndarray) -> np.ndarray:
        """The forest's answers with this member's share."""
        return (1 - self.share) * forest + self.share * boosted


def wanted(n_rows: int) -> bool:
    """Whether a full fit on ``n_rows`` examples fits a boosting member."""
    return BOOST_ROWS[0] <= n_rows <= BOOST_ROWS[1]


def add_member(
    trees: ExampleTrees,
    x: np.ndarray,
    y: np.ndarray,
    weights: np.ndarray | None,
    forest_oob: np.ndarray,
    seed: int,
    cancelled: Callable[[], bool] | None,
) -> np.ndarray:
    """The forest's held-out probabilities at its fitted rows, with a member mixed in when
    a full fit on that many rows wants one (``wanted``) and its share is above 0; the
    member is then ``trees.booster``. ``weights``: the authors' discounts the forest was
    fitted with (None: none)."""
    if not wanted(len(y)) or trees.only_label is not None:
        return forest_oob
    trees.booster, mixed = cross_fitted(
        x, y, weights, forest_oob, seed, trees.n_labels, lambda: go_on(cancelled)
    )
    return mixed


def cross_fitted(
    x: np.ndarray,
    y: np.ndarray,
    weights: np.ndarray | None,
    forest_oob: np.ndarray,
    seed: int,
    n_labels: int,
    go_on: Callable[[], None],
) -> tuple[Booster | None, np.ndarray]:
    """The member (None when its share is 0) and the forest's held-out probabilities at
    every row with it mixed in (``forest_oob`` as it is without). ``go_on`` is called
    before each fold's fit (it raises to cancel)."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    folds = np.random.default_rng(seed).permutation(len(y)) % BOOST_FOLDS
    held_out = np.zeros((len(y), n_labels))
    models = []
    for fold in range(BOOST_FOLDS):
        go_on()
        train, test = folds != fold, folds == fold
        if len(np.unique(y[train])) < 2:
            return None, forest_oob
        model = HistGradientBoostingClassifier(random_state=seed, **BOOST_SETTING)
        with _limited(1):
            model.fit(x[train], y[train], sample_weight=None if weights is None else weights[train])
            held_out[np.ix_(test, model.classes_)] = model.predict_proba(x[test])
        models.append(model)
    best = min(
        BOOST_SHARES,
        key=lambda b: log_loss((1 - b) * forest_oob + b * held_out, y, weights),
    )
    if best == 0:
        return None, forest_oob
    booster = Booster(models, n_labels, x.shape[1])
    booster.share = best
    return booster, booster.mixed(forest_oob, held_out)
