"""Intervals of the real line as float64 sees them, the building block of regions.

Feature values are float64, so an interval is treated as the set of float64 values in it:
``(60, inf)`` starts at the float just above 60. That makes emptiness, adjacency and
containment exact for every value a table can hold (``x > 60`` and ``x <= 60`` touch with no
gap and no overlap), while the open/closed flags keep what the coach wrote for ``describe``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

INF = math.inf


@dataclass(frozen=True)
class Interval:
    """``low``..``high`` with each end open or closed; an infinite end is always open."""

    low: float = -INF
    high: float = INF
    low_closed: bool = False
    high_closed: bool = False
    # The smallest and largest float64 inside (±inf when unbounded), computed once: region
    # algebra compares them millions of times.
    first: float = field(init=False, repr=False, compare=False)
    last: float = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        low, high = float(self.low), float(self.high)
        low_closed = self.low_closed and not math.isinf(low)
        high_closed = self.high_closed and not math.isinf(high)
        first = low if low_closed or math.isinf(low) else math.nextafter(low, INF)
        last = high if high_closed or math.isinf(high) else math.nextafter(high, -INF)
        for name, value in (
            ("low", low),
            ("high", high),
            ("low_closed", low_closed),
            ("high_closed", high_closed),
            ("first", first),
            ("last", last),
        ):
            object.__setattr__(self, name, value)

    @classmethod
    def point(cls, value: float) -> Interval:
        return cls(value, value, True, True)

    def is_empty(self) -> bool:
        return self.first > self.last or self.first == INF or self.last == -INF

    def is_point(self) -> bool:
        return self.first == self.last

    def contains_value(self, value: float) -> bool:
        return self.first <= value <= self.last

    def contains(self, other: Interval) -> bool:
        return other.is_empty() or (self.first <= other.first and other.last <= self.last)

    def mask(self, column: np.ndarray) -> np.ndarray:
        """Boolean array: which values of a float64 column lie in the interval."""
        result = np.ones(column.shape, dtype=bool)
        if not math.isinf(self.low):
            result &= column >= self.first
        if not math.isinf(self.high):
            result &= column <= self.last
        if math.isinf(self.low) and math.isinf(self.high):
            result &= ~np.isnan(column)
        return result

    def intersect(self, other: Interval) -> Interval:
        low = self if _tighter_low(self, other) else other
        high = self if _tighter_high(self, other) else other
        return low if low is high else Interval.between_ends(low, high)

    @classmethod
    def between_ends(cls, low: Interval, high: Interval) -> Interval:
        """``Interval(low.low, high.high, low.low_closed, high.high_closed)``: both ends come
        from intervals already normalised, so the fields (``first`` and ``last`` included)
        are copied rather than worked out again. Region algebra builds millions of these."""
        result = object.__new__(cls)
        vars(result).update(
            low=low.low,
            high=high.high,
            low_closed=low.low_closed,
            high_closed=high.high_closed,
            first=low.first,
            last=high.last,
        )
        return result

    def merge(self, other: Interval) -> Interval | None:
        """The union when it is one interval (they overlap or touch), else None."""
        if self.is_empty():
            return other
        if other.is_empty():
            return self
        if self.first > _next_up(other.last) or other.first > _next_up(self.last):
            return None
        low = other if _tighter_low(self, other) else self
        high = other if _tighter_high(self, other) else self
        return Interval.between_ends(low, high)

    def complement_within(self, domain: Interval) -> tuple[Interval, ...]:
        """The parts of ``domain`` outside this interval (zero, one or two intervals)."""
        pieces = []
        if not math.isinf(self.low):
            pieces.append(Interval(domain.low, self.low, domain.low_closed, not self.low_closed))
        if not math.isinf(self.high):
            pieces.append(
                Interval(self.high, domain.high, not self.high_closed, domain.high_closed)
            )
        if not pieces:
            return ()
        clipped = (piece.intersect(domain) for piece in pieces)
        return tuple(piece for piece in clipped if not piece.is_empty())

    def sample(self) -> float:
        """A value inside a non-empty interval a person would pick: the middle when bounded,
        one past an open end, the end itself when closed, 0 when unbounded."""
        first, last = self.first, self.last
        if math.isfinite(first) and math.isfinite(last):
            candidate = self.low / 2 + self.high / 2  # halves first: no overflow
        elif math.isfinite(first):
            candidate = self.low if self.low_closed else self.low + 1.0
        elif math.isfinite(last):
            candidate = self.high if self.high_closed else self.high - 1.0
        else:
            candidate = 0.0
        # Rounding can land on an open end of a tiny interval; fall back to its first float.
        return candidate if first <= candidate <= last else first


def _next_up(value: float) -> float:
    return value if math.isinf(value) else math.nextafter(value, INF)


def _tighter_low(a: Interval, b: Interval) -> bool:
    """Whether ``a``'s lower end excludes at least as much as ``b``'s (ties: prefer open)."""
    if a.first != b.first:
        return a.first > b.first
    return not a.low_closed


def _tighter_high(a: Interval, b: Interval) -> bool:
    if a.last != b.last:
        return a.last < b.last
    return not a.high_closed


def format_number(value: float) -> str:
    """``60.0`` → ``60``, ``0.1`` → ``0.1``: the shortest text that reads back the same."""
    if value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    return repr(value)
