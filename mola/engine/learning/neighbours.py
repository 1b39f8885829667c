"""Exact k-nearest teaching examples by brute force: one matrix product per block of queries.

Why not scikit-learn's KDTree/BallTree: our points have 20–60 coordinates (one-hot choices,
concepts), where space-partitioning trees prune almost nothing. Measured on this project's
2-core machine, 2,000 queries against 10,000 points in 45 dimensions took over a second with
KDTree and about a tenth of that here.

How: distances come from ‖q‖² − 2q·x + ‖x‖² in a single BLAS call per block. The points are
split into groups of ``GROUP`` (padded with points at infinity); one pass takes each group's
minimum, and the k nearest points always lie in the k groups with the smallest minima (any
point outside them has k points at least as near). So only k × GROUP candidates per query
are examined closely, and the full distance matrix is read once.

With a radius (predicting: only examples within the kernel's reach count), the rows that
provably have no example within it are found first without the product (reach.py: ~60 % of
a 10,000-row batch at M, in ~10 ms) and only the others are searched. Most of those have all
their examples within reach in one bucket of the filter: the product is still computed in
full (BLAS rounds a value differently in another shape), but only the bucket's columns are
read, not the whole row's group minima. The answers are the brute force's, ties and order
included. KDTree/BallTree radius queries took 1.7 s / 3.7 s for those 10,000 rows.

How many: at most ``MAX_STORED_EXAMPLES`` (``stored_rows``). Brute force costs a product
with every stored point per query — 7.6 ms per row and 3.7 s per 10,000 rows over 95,000
examples — and with many examples the forest (forest.py) carries what they teach,
while the kernel only carves local exceptions and the explanations name near examples. So
beyond the cap a seeded sample is stored, always with every counterexample in it.
"""

from __future__ import annotations

import numpy as np

from mola.engine.learning.reach import GROUP, ReachFilter

# Entries of one query × example distance block; 4M float32 = 16 MB.
BLOCK_ENTRIES = 1 << 22
SMALL_QUERY = 2  # queries at most this many rows skip BLAS
MAX_STORED_EXAMPLES = 16_384
# Batches of fewer rows skip the reach filter: its fixed cost is not worth it for them.
FILTER_MIN_ROWS = 64


def stored_rows(keep: np.ndarray, seed: int) -> np.ndarray:
    """Sorted indices of the examples the index stores: all of them up to
    ``MAX_STORED_EXAMPLES``, else every one ``keep`` marks (counterexamples) and a seeded
    sample of the others."""
    n, limit = len(keep), MAX_STORED_EXAMPLES
    if n <= limit:
        return np.arange(n)
    kept = np.flatnonzero(keep)
    others = np.flatnonzero(~keep)
    room = max(0, limit - len(kept))
    sample = np.random.default_rng(seed).choice(others, min(room, len(others)), replace=False)
    return np.sort(np.concatenate([kept, sample]))


class ExampleIndex:
    """The training points, kept in the layout the distance product wants."""

    def __init__(self, points: np.ndarray) -> None:
        points = np.ascontiguousarray(points, dtype=np.float32)  # (n, d), n may be 0
        self.n, self.d = points.shape
        self._points = points
        padded = -(-self.n // GROUP) * GROUP
        # Columns of [-2x, ‖x‖², 1] so that [q, 1, ‖q‖²] · column = ‖q − x‖²; the padding
        # columns are points at infinity, never chosen.
        right = np.zeros((self.d + 2, padded), dtype=np.float32)
        right[: self.d, : self.n] = -2 * points.T
        right[self.d, : self.n] = np.einsum("ij,ij->i", points, points)
        right[self.d, self.n :] = np.inf
        right[self.d + 1] = 1.0
        self._right = right
        self._filter: ReachFilter | None = None  # built on the first search with a radius

    def __getstate__(self) -> dict:
        return {"points": self._points}  # the augmented form is rebuilt in milliseconds

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["points"])

    def nearest(
        self,
        queries: np.ndarray,
        k: int,
        *,
        radius: float = np.inf,
        exclude: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Indices (m, k) and squared distances (m, k) of each query's k nearest points,
        nearest first.

        Missing neighbours (fewer than k points, or beyond ``radius``) are index -1 and
        distance inf. ``exclude[i]`` is a point query ``i`` may not pick (leave-one-out;
        negative when it is not stored).
        """
        m = len(queries)
        k = min(k, self.n)
        found = np.full((m, k), -1, dtype=np.int64)
        squared = np.full((m, k), np.inf, dtype=np.float32)
        if m == 0 or k == 0:
            return found, squared
        queries = np.asarray(queries, dtype=np.float32).reshape(m, self.d)
        few = m <= SMALL_QUERY
        plan = self._reachable(queries, radius) if exclude is None else None
        if plan is None:
            return self._search(queries, k, radius, exclude, few=few)
        rows, buckets, reach = plan  # only these rows can have a point within the radius
        found[rows], squared[rows] = self._search(
            queries[rows], k, radius, None, few=few, buckets=buckets, reach=reach
        )
        return found, squared

    def _reachable(
        self, queries: np.ndarray, radius: float
    ) -> tuple[np.ndarray, np.ndarray, ReachFilter] | None:
        """The rows that may have a point within ``radius``, the bucket their candidates
        are limited to (-1: none) and the filter that says so (reach.py), or None: search
        every row, when there is no radius or the batch is too small to be worth it."""
        if not np.isfinite(radius) or len(queries) < FILTER_MIN_ROWS:
            return None
        reach = self.prepare(radius)
        if not reach.useful():
            return None
        reachable, buckets = reach.reachable(queries)
        rows = np.flatnonzero(reachable)
        return rows, buckets[rows], reach

    def prepare(self, radius: float) -> ReachFilter:
        """The reach filter for ``radius`` (built once: one radius per model)."""
        bound = float(radius) * float(radius)
        reach = self._filter
        if reach is None or reach.bound != bound:
            reach = self._filter = ReachFilter(self._points, bound)
        return reach

    def _search(
        self,
        queries: np.ndarray,
        k: int,
        radius: float,
        exclude: np.ndarray | None,
        *,
        few: bool,
        buckets: np.ndarray | None = None,
        reach: ReachFilter | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """``nearest`` by brute force: one distance product per block of queries. ``few``:
        the caller's batch is tiny (einsum, not BLAS). ``buckets[i] >= 0``: query i's
        points within the radius are all in that bucket of the filter ``reach``, so only
        its columns of the product are read."""
        m = len(queries)
        found = np.full((m, k), -1, dtype=np.int64)
        squared = np.full((m, k), np.inf, dtype=np.float32)
        if m == 0:
            return found, squared
        left = np.hstack(
            [
                queries,
                np.ones((m, 1), np.float32),
                np.einsum("ij,ij->i", queries, queries)[:, None],
            ]
        )
        step = max(1, BLOCK_ENTRIES // self._right.shape[1])
        for start in range(0, m, step):
            stop = min(m, start + step)
            block = self._product(left[start:stop], few)
            rows = np.arange(stop - start)
            if exclude is not None:
                own = exclude[start:stop]
                block[rows[own >= 0], own[own >= 0]] = np.inf
            part = slice(start, stop)
            shortcut = None if reach is None else np.flatnonzero(buckets[part] >= 0)
            if shortcut is not None and len(shortcut):
                found[part][shortcut], squared[part][shortcut] = reach.smallest(
                    block, shortcut, buckets[part][shortcut], k, radius * radius
                )
                rows = np.flatnonzero(buckets[part] < 0)
                if not len(rows):
                    continue
                block = block[rows]
            index, distance = _smallest(block, k, radius * radius)
            # Rounding can make a duplicate's distance slightly negative.
            distance = np.maximum(distance, 0)
            near = np.isfinite(distance) & (distance <= radius * radius)
            found[start + rows] = np.where(near, index, -1)
            squared[start + rows] = np.where(near, distance, np.inf)
        return found, squared

    def _product(self, left: np.ndarray, few: bool) -> np.ndarray:
        """``left @ right``. BLAS gives a row the same values wherever it falls in a block
        of two or more rows, but a single row goes through another routine (gemv), as does
        einsum: a lone last row is paired with itself, so that a row's neighbours do not
        depend on where it falls in a batch."""
        if few:
            # einsum does not call BLAS: a threaded BLAS call on a busy machine can wait
            # milliseconds for its threads, longer than this whole product takes alone.
            return np.einsum("ij,jk->ik", left, self._right)
        if len(left) == 1:
            return (left[[0, 0]] @ self._right)[:1]
        return left @ self._right


def _smallest(block: np.ndarray, k: int, bound: float = np.inf) -> tuple[np.ndarray, np.ndarray]:
    """Column indices and values of the k smallest entries of each row, ascending (the
    block is overwritten). A row whose entries all exceed ``bound`` may get inf values
    instead: what a radius leaves out is not looked for (~60 % of the rows of a 10,000-row
    batch at M have no example within the kernel's reach)."""
    c, width = block.shape
    groups = width // GROUP
    if groups > k:
        # Group g is the columns g, g + groups, g + 2·groups, …: the minimum over groups is
        # then an element-wise minimum of GROUP contiguous slices, which vectorises well.
        minima = block.reshape(c, GROUP, groups).min(axis=1)
        if bound < np.inf:
            within = np.flatnonzero(minima.min(axis=1) <= bound)
            index = np.zeros((c, k), dtype=np.int64)
            values = np.full((c, k), np.inf, dtype=block.dtype)
            if len(within) < c:
                if len(within):
                    index[within], values[within] = _grouped(block[within], minima[within], k)
                return index, values
        return _grouped(block, minima, k)
    rows = np.arange(c)[:, None]
    candidates = np.broadcast_to(np.arange(width), (c, width))
    picks = _argsmallest(block, k)
    return candidates[rows, picks], block[rows, picks]


def _grouped(block: np.ndarray, minima: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """``_smallest`` from the rows' group minima: the k smallest lie in the k groups of
    smallest minima."""
    c, width = block.shape
    rows = np.arange(c)[:, None]
    best_groups = _argsmallest(minima, k)
    candidates = (best_groups[:, :, None] + np.arange(GROUP) * (width // GROUP)).reshape(c, -1)
    values = block[rows, candidates]
    picks = _argsmallest(values, k)
    return candidates[rows, picks], values[rows, picks]


def _argsmallest(values: np.ndarray, k: int) -> np.ndarray:
    """(rows, k) column indices of each row's k smallest values, ascending, by k passes of
    argmin (a SIMD reduction; cheaper than a partition for the small k used here)."""
    work = values.copy()
    rows = np.arange(len(values))
    picks = np.empty((len(values), k), dtype=np.int64)
    for j in range(k):
        picks[:, j] = work.argmin(axis=1)
        work[rows, picks[:, j]] = np.inf
    return picks


def kernel_evidence(
    found: np.ndarray,
    squared: np.ndarray,
    labels: np.ndarray,
    weights: np.ndarray,
    bandwidth: float,
    n_labels: int,
) -> np.ndarray:
    """(m, n_labels) Gaussian-kernel weighted label counts of the neighbours found.

    The kernel is cut at three bandwidths (weight < 0.012): beyond that a case is not near
    an example, and the rules alone speak there.
    """
    m = len(found)
    evidence = np.zeros(m * max(n_labels, 1))
    valid = (found >= 0) & (squared <= 9 * bandwidth * bandwidth)
    if not valid.any() or n_labels == 0:
        return evidence.reshape(m, max(n_labels, 1))[:, :n_labels]
    row, col = np.nonzero(valid)
    neighbour = found[row, col]
    kernel = np.exp(-squared[row, col].astype(np.float64) / (2 * bandwidth * bandwidth))
    evidence += np.bincount(
        row * n_labels + labels[neighbour], kernel * weights[neighbour], minlength=m * n_labels
    )
    return evidence.reshape(m, n_labels)
