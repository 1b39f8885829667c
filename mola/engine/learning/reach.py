"""Which queries provably have no stored point within a squared distance ``bound`` — found
without the (queries × points) distance product, so that product runs on the other rows only.

Why this works on our points: most coordinates take exactly two values (a choice's one-hot
cell, a boolean, a concept), and once the kernel has learnt a bandwidth, crossing a
boolean's or a concept's value alone usually costs more than the kernel's whole reach. Call
such a coordinate *decisive* (two values ``a < b`` with ``(b − a)² > bound``). A query's
*ideal pattern* is the nearer value on each decisive coordinate; a point with another
pattern is at least ``base + min extra`` away (``base``: the query's distance to its ideal
values on those coordinates; ``extra``: what taking the other value adds, per coordinate).
When that already exceeds the bound, only the points sharing the ideal pattern (one bucket,
found by a sorted key) can be within reach: the query is out of reach when there is no such
bucket, or when every point in it is farther than the bound (checked exactly, pair by pair —
buckets hold a few points). At M about 60 % of a batch's rows are out of reach, and this
finds almost all of them in a few milliseconds.

Exactness: a row is dropped only when its lower bound exceeds the bound by more than the
float32 rounding of the product can move a distance (``_slack``), so the rows dropped are
rows the brute-force search finds nothing within reach for; the others are searched exactly
as before.
"""

from __future__ import annotations

import numpy as np

# At most this many decisive coordinates make a bucket's key (a uint64); fewer only loosens
# the bound (the widest gaps are kept).
KEY_BITS = 63
# Pairs checked at once (memory: pairs × rest coordinates × 4 bytes).
PAIRS_PER_CHUNK = 1 << 18
_UNIT = 2.0**-24  # float32's unit roundoff
GROUP = 32  # neighbours.GROUP (that module imports this one)


class ReachFilter:
    """The points bucketed by their values on the decisive coordinates for one ``bound``."""

    def __init__(self, points: np.ndarray, bound: float) -> None:
        n, d = points.shape
        self.bound = bound
        low, high = points.min(axis=0), points.max(axis=0)
        two = (points == low) | (points == high)
        gap = (high.astype(np.float64) - low) ** 2
        decisive = np.flatnonzero(two.all(axis=0) & (gap > bound))
        self.decisive = decisive[np.argsort(-gap[decisive], kind="stable")][:KEY_BITS]
        self.rest = np.setdiff1d(np.arange(d), self.decisive)
        self.low = low[self.decisive].astype(np.float64)
        self.high = high[self.decisive].astype(np.float64)
        self._weights = np.left_shift(np.uint64(1), np.arange(len(self.decisive), dtype=np.uint64))
        keys = self._keys(points[:, self.decisive] == high[self.decisive])
        order = np.argsort(keys, kind="stable")
        self.keys, starts = np.unique(keys[order], return_index=True)
        self.starts = starts.astype(np.int64)
        self.sizes = np.diff(np.append(self.starts, n))
        self.order = order  # the points' indices, bucket by bucket
        self.points = np.ascontiguousarray(points[order][:, self.rest])  # by bucket
        self.largest_norm = float(np.sqrt(np.einsum("ij,ij->i", points, points).max(initial=0)))
        self.d = d

    def useful(self) -> bool:
        return len(self.decisive) > 0

    def _keys(self, bits: np.ndarray) -> np.ndarray:
        return (bits.astype(np.uint64) * self._weights).sum(axis=1, dtype=np.uint64)

    def reachable(self, queries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(m,) False where the query provably has no point within the bound; and (m,) the
        bucket that holds every point within the bound of the query, -1 where it may not."""
        slack = self._slack(queries)
        decisive = queries[:, self.decisive].astype(np.float64)
        to_low, to_high = (decisive - self.low) ** 2, (decisive - self.high) ** 2
        base = np.minimum(to_low, to_high).sum(axis=1)
        with np.errstate(invalid="ignore"):  # inf - inf: NaN, handled below
            extra = np.abs(to_low - to_high).min(axis=1, initial=np.inf)
        # NaN anywhere makes these comparisons False: such rows are searched.
        alone = base + extra > self.bound + slack
        ideal = self._keys(to_high < to_low)
        bucket = np.minimum(np.searchsorted(self.keys, ideal), len(self.keys) - 1)
        shared = self.keys[bucket] == ideal
        reachable = ~alone
        check = np.flatnonzero(alone & shared & (base <= self.bound + slack))
        reachable[check] = self._bucket_within(queries, check, bucket[check], base, slack)
        return reachable, np.where(alone & shared, bucket, -1)

    def smallest(
        self, block: np.ndarray, rows: np.ndarray, buckets: np.ndarray, k: int, bound: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """``neighbours._smallest`` and its cut at the bound for the ``rows`` of a distance
        ``block`` whose points within the bound all lie in ``buckets``: only those columns
        are read. The same neighbours in the same order, ties included: _smallest takes
        the k groups of smallest minimum (then lowest index) and within them the smallest
        values (then the earliest in group order, then member order); a group that holds a
        point within the bound has its minimum there, so these keys are known from the
        bucket's points alone."""
        counts = self.sizes[buckets]
        firsts = np.cumsum(counts) - counts
        pair_rows = np.repeat(np.arange(len(rows)), counts)
        offsets = np.arange(int(counts.sum())) - np.repeat(firsts, counts)
        points = self.order[np.repeat(self.starts[buckets], counts) + offsets]
        values = block.ravel().take(rows[pair_rows] * block.shape[1] + points)  # block[r, p]
        inside = values <= bound  # as _smallest and nearest compare: in the block's dtype
        pair_rows, points, values = pair_rows[inside], points[inside], values[inside]
        groups = block.shape[1] // GROUP
        if groups > k:
            group, member = points % groups, points // groups
            minima = _group_minima(pair_rows * groups + group, values)
            order = np.lexsort((group * GROUP + member, minima, values, pair_rows))
        else:  # _smallest reads the whole row: the earliest column on a tie
            order = np.lexsort((points, values, pair_rows))
        pair_rows, points, values = pair_rows[order], points[order], values[order]
        starts = np.searchsorted(pair_rows, np.arange(len(rows)))
        rank = np.arange(len(pair_rows)) - starts[pair_rows]
        kept = rank < k
        found = np.full((len(rows), k), -1, dtype=np.int64)
        squared = np.full((len(rows), k), np.inf, dtype=np.float32)
        found[pair_rows[kept], rank[kept]] = points[kept]
        # Rounding can make a duplicate's distance slightly negative (as nearest).
        squared[pair_rows[kept], rank[kept]] = np.maximum(values[kept], 0)
        return found, squared

    def _slack(self, queries: np.ndarray) -> np.ndarray:
        """Per query, how far above the bound a true distance must be for the float32
        product (‖q‖² − 2q·x + ‖x‖², d + 2 terms) to be sure to compute it above the bound
        too; four times the textbook error bound, which also covers this module's sums."""
        norms = np.sqrt(np.einsum("ij,ij->i", queries, queries, dtype=np.float64))
        return 4 * (self.d + 2) * _UNIT * (norms + self.largest_norm) ** 2

    def _bucket_within(
        self,
        queries: np.ndarray,
        rows: np.ndarray,
        buckets: np.ndarray,
        base: np.ndarray,
        slack: np.ndarray,
    ) -> np.ndarray:
        """For each of ``rows`` (whose only candidates are the points of its bucket):
        does a point of the bucket lie within the bound?"""
        result = np.zeros(len(rows), dtype=bool)
        sizes = self.sizes[buckets]
        ends = np.cumsum(sizes)
        start = 0
        while start < len(rows):
            # Rows whose pairs fit in a chunk (always at least one row).
            stop = max(
                start + 1, int(np.searchsorted(ends, ends[start] - sizes[start] + PAIRS_PER_CHUNK))
            )
            part = slice(start, stop)
            counts = sizes[part]
            firsts = np.cumsum(counts) - counts
            offsets = np.arange(int(counts.sum())) - np.repeat(firsts, counts)
            pair_points = np.repeat(self.starts[buckets[part]], counts) + offsets
            asked = queries[rows[part]][:, self.rest]
            rest = np.repeat(asked, counts, axis=0)
            rest -= self.points[pair_points]
            # In float32: its rounding (~|rest| units of the sum) is within the slack too.
            away = np.einsum("ij,ij->i", rest, rest)
            nearest = np.minimum.reduceat(away, firsts) + base[rows[part]]
            result[part] = nearest <= self.bound + slack[rows[part]]
            start = stop
        return result


def _group_minima(keys: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Per entry, the minimum of ``values`` over the entries with its key."""
    if not len(keys):
        return values
    unique, inverse = np.unique(keys, return_inverse=True)
    minima = np.full(len(unique), np.inf, dtype=values.dtype)
    np.minimum.at(minima, inverse, values)
    return minima[inverse]
