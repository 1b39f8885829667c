"""The boosting member's trees (forest_boost.py) as flat arrays, for big batches and for
explanations: each tree's value per row through scikit-learn's own compiled per-tree
predictor, summed in scikit-learn's order; where each row ends in each tree; and, for a
(row, column) pair switched off, only the trees whose path on the row tests that column
walked again (forest_walk.FlatForest's walk, the same split rule as scikit-learn's).

Why: through ``HistGradientBoostingClassifier.predict_proba`` 10,000 rows cost three
input checks and conversions and, worse, an explanation asked the three models again for
every (rule, row) pair whose column some tree splits on (~1,200 trees per pair). A numpy
walk of every tree for every row is no cheaper than scikit-learn's compiled one (measured
at S: 2.8 s against 0.39 s for 10,000 rows), so the rows' own answers still come from its
per-tree predictors, called directly with one thread; the leaves are read from their
values (a tree's leaf values are distinct but for rare ties, walked instead).
"""

from __future__ import annotations

import numpy as np

from mola.engine.learning.forest_walk import FlatForest, is_read

# (pair, tree) cells a switched pair's check holds at once: (pairs × trees) stays ~1 MB.
CELLS_PER_PART = 1 << 20


class BoostWalk(FlatForest):
    """Every tree of the member's fold models in ``FlatForest``'s flat arrays (tree t's
    nodes from ``roots[t]``), with the raw column each tree adds to (the models' raw
    columns side by side) and each node's value."""

    def __init__(self, models: list, width: int) -> None:
        parts, column, self._predictors, start = [], [], [], 0
        for model in models:
            for per_class in model._predictors:
                for k, predictor in enumerate(per_class):
                    parts.append(predictor.nodes)
                    column.append(start + k)
                    self._predictors.append(predictor)
            start += model.n_trees_per_iteration_
        sizes = np.array([len(part) for part in parts], dtype=np.int64)
        starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
        offsets = np.repeat(starts, sizes)
        every = np.concatenate(parts)
        self.models = models
        self.roots = starts
        self.leaf = every["is_leaf"].astype(bool)
        self.left = np.where(self.leaf, 0, every["left"].astype(np.int64) + offsets)
        self.right = np.where(self.leaf, 0, every["right"].astype(np.int64) + offsets)
        self.feature = np.where(self.leaf, 0, every["feature_idx"].astype(np.int64))
        self.threshold = every["num_threshold"].astype(np.float64)
        self.missing_left = every["missing_go_to_left"].astype(bool)
        self.value = every["value"].astype(np.float64)
        self.width = width
        self.column = np.array(column, dtype=np.int64)
        self.n_raw = start
        self._tested: np.ndarray | None = None
        self._trees_on: list[np.ndarray] | None = None  # per column the trees splitting on it
        self._bitsets = [model._bin_mapper.make_known_categories_bitsets() for model in models]
        self._model_of = np.repeat(
            np.arange(len(models)), [len(m._predictors) * len(m._predictors[0]) for m in models]
        )
        # Per tree its leaves sorted by value, to read a leaf from a value; None on a tie.
        self._by_value: list[tuple[np.ndarray, np.ndarray] | None] = []
        for tree, root in enumerate(starts.tolist()):
            leaves = root + np.flatnonzero(self.leaf[root : root + sizes[tree]])
            order = np.argsort(self.value[leaves], kind="stable")
            values = self.value[leaves][order]
            distinct = len(values) < 2 or bool((np.diff(values) > 0).all())
            self._by_value.append((values, leaves[order]) if distinct else None)

    def leaves(self, x: np.ndarray) -> np.ndarray:
        """(rows, trees) the leaf each tree sends each row of a small batch to: one numpy
        walk of every tree at once (a Python walk of ~1,200 trees costs more than its ~60
        numpy calls, even for one row)."""
        x = np.asarray(x, dtype=np.float32)
        rows = np.repeat(np.arange(len(x)), len(self.roots))
        return self._walk(x, rows, np.tile(self.roots, len(x))).reshape(len(x), -1)

    def columns_read(self, leaves: np.ndarray) -> np.ndarray:
        """``FlatForest.columns_read``; for a few rows in one gather (its loop over ~1,200
        trees cost ~2 ms for one row)."""
        if leaves.size * self._tested_on_path().shape[1] <= CELLS_PER_PART:
            return np.bitwise_or.reduce(self._tested_on_path()[leaves], axis=1)
        return super().columns_read(leaves)

    def tree_values(self, x: np.ndarray) -> np.ndarray:
        """(rows, trees) each tree's value per row, by scikit-learn's compiled predictor on
        the float64 input its ``predict_proba`` would make, one thread."""
        x = np.asfortranarray(x, dtype=np.float64)
        # Column-major: each tree's values are written and read contiguously.
        out = np.empty((len(x), len(self._predictors)), order="F")
        for tree, predictor in enumerate(self._predictors):
            known, f_idx = self._bitsets[self._model_of[tree]]
            out[:, tree] = predictor.predict(x, known, f_idx, 1)
        return out

    def raw(self, values: np.ndarray) -> np.ndarray:
        """(rows, n_raw) the models' raw predictions from ``tree_values``, added as
        ``_raw_predict`` adds them: baseline first, then tree by tree in its order."""
        raw = np.zeros((len(values), self.n_raw), order="F")
        start = 0
        for model in self.models:
            raw[:, start : start + model.n_trees_per_iteration_] += model._baseline_prediction
            start += model.n_trees_per_iteration_
        for tree, column in enumerate(self.column.tolist()):
            raw[:, column] += values[:, tree]
        return raw

    def leaves_of(self, x: np.ndarray, values: np.ndarray) -> np.ndarray:
        """(rows, trees) int32 the leaf each tree sends each row to, read from its value
        (``tree_values``); a tree with two leaves of one value is walked."""
        leaves = np.empty(values.shape, dtype=np.int32, order="F")
        rows = np.arange(len(x))
        for tree, known in enumerate(self._by_value):
            if known is None:
                leaves[:, tree] = self._walk(x, rows, np.full(len(x), self.roots[tree]))
            else:
                sorted_values, nodes = known
                at = np.minimum(np.searchsorted(sorted_values, values[:, tree]), len(nodes) - 1)
                leaves[:, tree] = nodes[at]
                if not (sorted_values[at] == values[:, tree]).all():  # never seen: walk
                    leaves[:, tree] = self._walk(x, rows, np.full(len(x), self.roots[tree]))
        return leaves

    def switched_raw(
        self,
        x: np.ndarray,
        leaves: np.ndarray,
        raw: np.ndarray,
        rows: np.ndarray,
        columns: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]:
        """For each pair (``rows[p]``, ``columns[p]``): which pairs end in another leaf of
        some tree with that column set to 0, and their raw predictions: the row's ``raw``
        plus, per tree walked again, its new leaf's value less its own (equal to
        scikit-learn's sum within rounding, ~1e-15)."""
        pair, tree = self._hits(leaves, rows, columns)
        old = leaves[rows[pair], tree]
        new = self._walk(x, rows[pair], self.roots[tree], switched=columns[pair].astype(np.int64))
        moved = new != old
        pair, tree, old, new = pair[moved], tree[moved], old[moved], new[moved]
        hit = np.flatnonzero(np.bincount(pair, minlength=len(rows)))
        out = raw[rows[hit]]
        delta = self.value[new] - self.value[old]
        np.add.at(out, (np.searchsorted(hit, pair), self.column[tree]), delta)
        changed = np.zeros(len(rows), dtype=bool)
        changed[hit] = True
        return changed, out

    def changed_raw(
        self,
        x: np.ndarray,
        leaves: np.ndarray,
        raw: np.ndarray,
        rows: np.ndarray,
        columns: np.ndarray,
    ) -> np.ndarray:
        """(rows of ``x``, n_raw) the raw predictions at the rows of ``x`` (their inputs
        with some columns changed: the cells ``rows[c]``, ``columns[c]``), ``leaves`` and
        ``raw`` being what they were before: the trees whose path on a row tests one of its
        changed columns walked again, their new leaf's value less the old one added
        (scikit-learn's sum within rounding, ~1e-15)."""
        out = np.array(raw, dtype=np.float64)
        cell, tree = self._hits(leaves, rows, columns)
        walked = np.zeros((len(x), len(self.roots)), dtype=bool)  # a tree once per row
        walked[rows[cell], tree] = True
        row, tree = np.nonzero(walked)
        new = self._walk(x, row, self.roots[tree])
        old = leaves[row, tree]
        np.add.at(out, (row, self.column[tree]), self.value[new] - self.value[old])
        return out

    def _hits(
        self, leaves: np.ndarray, rows: np.ndarray, columns: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """The (pair, tree) whose path on row ``rows[p]`` (``leaves``) tests column
        ``columns[p]``: per column only the trees that split on it are looked at."""
        tested = self._tested_on_path()
        trees_on = self._trees_splitting()
        pairs, trees = [], []
        order = np.argsort(columns, kind="stable")
        bounds = np.flatnonzero(np.diff(columns[order])) + 1
        for group in np.split(order, bounds):
            if not len(group):
                continue
            column = int(columns[group[0]])
            on = trees_on[column]
            step = max(1, CELLS_PER_PART // max(1, len(on)))
            for begin in range(0, len(group), step):
                part = group[begin : begin + step]
                pair, k = np.nonzero(is_read(tested, leaves[rows[part]][:, on], column))
                pairs.append(part[pair])
                trees.append(on[k])
        if not pairs:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        return np.concatenate(pairs), np.concatenate(trees)

    def prepare(self) -> None:
        """``FlatForest.prepare``, and the trees splitting on each column (``_hits``)."""
        super().prepare()
        self._trees_splitting()

    def _trees_splitting(self) -> list[np.ndarray]:
        """Per column, the trees with a node splitting on it (built on first use)."""
        if self._trees_on is None:
            inner = ~self.leaf
            tree_of = np.repeat(np.arange(len(self.roots)), np.diff([*self.roots, len(self.leaf)]))
            self._trees_on = [
                np.unique(tree_of[inner & (self.feature == c)]) for c in range(self.width)
            ]
        return self._trees_on
