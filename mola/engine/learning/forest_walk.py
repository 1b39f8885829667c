"""The fitted forest as flat arrays: its leaves for many rows at once, its probabilities
from those leaves bit for bit as scikit-learn computes them, and the leaves again for a row
with one column switched — walked only in the trees whose path tests that column.

Why: the deciding rules of an explanation (deciding.py) ask the forest about every (voting
rule, row) pair, ~13 per row at M, with that rule's column switched off. A tree whose path
on the row never tests the column ends in the same leaf, so only a few (pair, tree) walks
are needed, not whole forests; and summing the trees' leaf values in scikit-learn's order
gives the very probabilities scikit-learn would (``RandomForestClassifier.predict_proba``
adds each tree's ``tree_.value`` at its leaf, in tree order, then divides by their number).
"""

from __future__ import annotations

from array import array

import numpy as np

SMALL_WALK = 64  # rows up to which the numpy walk beats scikit-learn's per-tree ``apply``
# Rows up to which a walk in plain Python beats the numpy one: a numpy pass per level of
# the deepest tree costs ~10 numpy calls for the one row of a predict request (~0.5 ms at
# M), a Python step per node on its path ~0.1 µs (~0.1 ms for its 24 trees).
PYTHON_WALK = 2
# Switched walks (a row with one column read as 0, from a tree's root) up to which plain
# Python beats the numpy walk: one row's explanation walks ~34 at M, ~0.3 ms in numpy.
PYTHON_SWITCHED = 64


class FlatForest:
    """Every tree of a fitted RandomForestClassifier in flat arrays, nodes numbered across
    trees (tree t's nodes start at ``roots[t]``), walked with scikit-learn's rule
    (``_tree.pyx``): a missing value goes where the split sends missing values, a number
    left when at most the threshold (a float32 input compared as float64)."""

    def __init__(self, model) -> None:
        self._model = model
        trees = [estimator.tree_ for estimator in model.estimators_]
        sizes = np.array([tree.node_count for tree in trees], dtype=np.int64)
        starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
        offsets = np.repeat(starts, sizes)
        left = np.concatenate([tree.children_left for tree in trees]).astype(np.int64)
        right = np.concatenate([tree.children_right for tree in trees]).astype(np.int64)
        self.roots = starts
        self.leaf = left < 0
        self.left = np.where(self.leaf, 0, left + offsets)
        self.right = np.where(self.leaf, 0, right + offsets)
        self.feature = np.concatenate([tree.feature for tree in trees]).astype(np.int64)
        self.feature[self.leaf] = 0
        self.threshold = np.concatenate([tree.threshold for tree in trees])
        self.missing_left = np.concatenate([tree.missing_go_to_left for tree in trees]) > 0
        # What each tree's predict_proba gives at a node: its value, not renormalised.
        self.value = np.concatenate([tree.value[:, 0, : model.n_classes_] for tree in trees])
        self.width = int(model.n_features_in_)
        self._tested: np.ndarray | None = None
        self._lists: tuple | None = None  # the arrays as Python arrays, for the Python walk

    def leaves(self, x: np.ndarray) -> np.ndarray:
        """(rows, trees) the leaf each tree sends each row of ``x`` (float32) to."""
        x = np.asarray(x, dtype=np.float32)
        if len(x) > SMALL_WALK:
            # Each tree's own apply, as RandomForestClassifier.apply calls it, without its
            # input check and joblib dispatch per tree: ~25 % of its time at M (x is float32).
            trees = self._model.estimators_
            return np.column_stack([t.tree_.apply(x) for t in trees]).astype(np.int64) + self.roots
        if len(x) <= PYTHON_WALK:
            return np.array([self._python_walk(row) for row in x.tolist()], dtype=np.int64)
        rows = np.repeat(np.arange(len(x)), len(self.roots))
        return self._walk(x, rows, np.tile(self.roots, len(x))).reshape(len(x), -1)

    def probabilities(self, leaves: np.ndarray) -> np.ndarray:
        """(rows, classes) the forest's probabilities for rows ending in ``leaves``."""
        out = np.zeros((len(leaves), self.value.shape[1]))
        if len(leaves) <= SMALL_WALK:
            # One gather and one running sum (``accumulate`` adds in tree order, one tree
            # after the other, as the loop below): the few rows of an explanation read the
            # forest ~3 times, ~24 numpy calls each with the loop.
            out += np.add.accumulate(self.value[leaves], axis=1)[:, -1]
        else:
            for tree in range(leaves.shape[1]):  # in tree order, as scikit-learn sums them
                out += self.value[leaves[:, tree]]
        out /= leaves.shape[1]
        return out

    def columns_read(self, leaves: np.ndarray) -> np.ndarray:
        """(rows, ⌈width / 8⌉) uint8: bit c set where some tree tests column c on the way to
        the row's leaf (``leaves``, rows × trees); ``is_read`` reads it."""
        tested = self._tested_on_path()
        read = np.zeros((len(leaves), tested.shape[1]), dtype=np.uint8)
        for tree in range(leaves.shape[1]):
            read |= tested[leaves[:, tree]]
        return read

    def switched_leaves(
        self, x: np.ndarray, leaves: np.ndarray, rows: np.ndarray, columns: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """For each pair (``rows[p]``, ``columns[p]``): the leaves of that row of ``x`` with
        that column set to 0, ``leaves`` being the row's own. Returns which pairs end in
        another leaf in some tree, and those pairs' leaves (changed pairs × trees)."""
        own = leaves[rows]
        hit = is_read(self._tested_on_path(), own, columns[:, None])
        changed = hit.any(axis=1)
        pair, tree = np.nonzero(hit[changed])
        walked = own[changed]
        at = np.flatnonzero(changed)[pair]
        if len(at) <= PYTHON_SWITCHED:
            walked[pair, tree] = self._python_switched(x, rows[at], self.roots[tree], columns[at])
        else:
            walked[pair, tree] = self._walk(
                x, rows[at], self.roots[tree], switched=columns[at].astype(np.int64)
            )
        return changed, walked

    def _walk(
        self,
        x: np.ndarray,
        rows: np.ndarray,
        start: np.ndarray,
        switched: np.ndarray | None = None,
    ) -> np.ndarray:
        """The leaf each walk (row of ``x``, starting node) ends in; ``switched``: per walk a
        column read as 0 instead of its value."""
        node = np.array(start, dtype=np.int64)
        active = np.flatnonzero(~self.leaf[node])
        while len(active):
            at = node[active]
            feature = self.feature[at]
            value = x[rows[active], feature]
            if switched is not None:
                value = np.where(feature == switched[active], np.float32(0), value)
            left = np.where(np.isnan(value), self.missing_left[at], value <= self.threshold[at])
            at = np.where(left, self.left[at], self.right[at])
            node[active] = at
            active = active[~self.leaf[at]]
        return node

    def _python_walk(self, row: list[float]) -> list[int]:
        """Each tree's leaf for one row (its float32 values as Python floats: exact, and
        compared with the float64 thresholds as scikit-learn compares them)."""
        leaf, feature, threshold, left, right, missing_left = self._python_arrays()
        found = []
        for node in self.roots.tolist():
            while not leaf[node]:
                value = row[feature[node]]
                if value != value:  # NaN: where the split sends missing values
                    node = left[node] if missing_left[node] else right[node]
                else:
                    node = left[node] if value <= threshold[node] else right[node]
            found.append(node)
        return found

    def prepare(self) -> None:
        """Build what explaining builds on first use (``_tested_on_path``)."""
        self._tested_on_path()

    def _python_switched(
        self, x: np.ndarray, rows: np.ndarray, start: np.ndarray, switched: np.ndarray
    ) -> list[int]:
        """``_walk`` with ``switched`` in plain Python, as ``_python_walk`` walks."""
        leaf, feature, threshold, left, right, missing_left = self._python_arrays()
        values: dict[int, list[float]] = {}
        found = []
        for row, node, column in zip(rows.tolist(), start.tolist(), switched.tolist(), strict=True):
            data = values.get(row)
            if data is None:
                data = values[row] = x[row].tolist()
            while not leaf[node]:
                at = feature[node]
                value = 0.0 if at == column else data[at]
                if value != value:  # NaN: where the split sends missing values
                    node = left[node] if missing_left[node] else right[node]
                else:
                    node = left[node] if value <= threshold[node] else right[node]
            found.append(node)
        return found

    def _python_arrays(self) -> tuple:
        """The node tables as Python arrays, for the Python walks (built on first use)."""
        if self._lists is None:
            self._lists = (
                _untracked("b", self.leaf),
                _untracked("q", self.feature),
                _untracked("d", self.threshold),
                _untracked("q", self.left),
                _untracked("q", self.right),
                _untracked("b", self.missing_left),
            )
        return self._lists

    def _tested_on_path(self) -> np.ndarray:
        """(nodes, ⌈width / 8⌉) uint8: bit c set where a node on the way from the root to
        this node (itself excluded) tests column c — for a leaf, every column its path reads.
        Packed bits: a 100-tree forest of small-space leaves has ~200,000 nodes."""
        if self._tested is None:
            tested = np.zeros((len(self.leaf), -(-self.width // 8)), dtype=np.uint8)
            frontier = self.roots[~self.leaf[self.roots]]
            while len(frontier):
                feature = self.feature[frontier]
                for child in (self.left[frontier], self.right[frontier]):
                    tested[child] = tested[frontier]
                    tested[child, feature >> 3] |= (128 >> (feature & 7)).astype(np.uint8)
                children = np.concatenate([self.left[frontier], self.right[frontier]])
                frontier = children[~self.leaf[children]]
            self._tested = tested
        return self._tested


def is_read(bits: np.ndarray, at: np.ndarray, columns: np.ndarray) -> np.ndarray:
    """Whether column ``columns`` is set in row ``at`` of packed ``bits`` (broadcast)."""
    return (bits[at, columns >> 3] & (128 >> (columns & 7))) > 0


def _untracked(code: str, values: np.ndarray) -> array:
    """``values`` as a Python ``array``: indexed like a list, read as fast, but one block of
    memory the cycle collector never walks. As lists, the ~6 × (all the forest's nodes)
    items at M made every full collection in a web process walk them: 0.28 s, and a
    10,000-row predict paid one in two (its CPU 0.21 -> 0.30 s in process)."""
    return array(code, np.ascontiguousarray(values, dtype=np.dtype(code)).tobytes())
