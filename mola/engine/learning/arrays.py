"""Tables for the learner: the same ``Table`` as ``table_from_rows``, built faster, and sliced.

Training turns up to 100,000 example dicts into columns; ``table_from_rows`` checks every
value with ``isinstance`` one at a time (≈0.15 s per 10,000 rows of 20 features here). When
a column holds only plain numbers (or strings, or booleans) numpy can convert it in one
call; any other column falls back to ``table_from_rows`` itself, so the result is identical
(a test compares them on awkward rows).

A retrain after one new example should not convert the other 99,999 again: ``TableCache``
keeps the last table built from a list of rows and, next time, takes the rows it has seen
from its columns and converts only the new ones.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from mola.engine.schema import Feature, Schema
from mola.engine.table import Table, table_from_rows

_NUMBER_TYPES = frozenset({int, float})


def rows_to_table(schema: Schema, rows: Sequence[Mapping[str, Any]]) -> Table:
    """``table_from_rows(schema, rows)``, with a fast path for well-typed columns."""
    columns = {}
    by_feature = _values_by_feature([feature.name for feature in schema.features], rows)
    for feature, values in zip(schema.features, by_feature, strict=True):
        column = _fast_column(feature, values)
        if column is None:
            column = table_from_rows(Schema((feature,), ()), [{feature.name: v} for v in values])
            column = column.columns[feature.name]
        columns[feature.name] = column
    return Table(columns=columns, n_rows=len(rows))


def _values_by_feature(names: list[str], rows: Sequence[Mapping[str, Any]]) -> list[list[Any]]:
    """Each feature's values in row order (None where a row lacks the feature)."""
    return [[row.get(name) for row in rows] for name in names]


def _fast_column(feature: Feature, values: list[Any]) -> np.ndarray | None:
    kinds = set(map(type, values))
    if feature.kind == "number" and kinds <= _NUMBER_TYPES:
        try:
            return np.array(values, dtype=np.float64).reshape(len(values))
        except OverflowError:  # an int beyond float64: let the reference decide
            return None
    if feature.kind == "category" and kinds <= {str}:
        codes = {choice: index for index, choice in enumerate(feature.choices)}
        return np.array([codes.get(v, -1) for v in values], dtype=np.int32).reshape(len(values))
    if feature.kind == "boolean" and kinds <= {bool}:
        return np.array(values, dtype=bool).reshape(len(values))
    return None


class TableCache:
    """The last table built from example rows, reused row by row by the next ``table`` call.

    Rows are recognised by the identity of their mapping, not its content: comparing 100,000
    dicts would cost as much as converting them. So the caller must hand the same mapping
    object for an unchanged row, and never mutate a mapping it has handed in (snapshots are
    frozen: the worker keeps each example's features object while the example is unchanged,
    see ``teaching.services.snapshots``). The cache holds references to those mappings, so an
    identity is never reused while it is cached. Not thread-safe: one per process and space.
    """

    def __init__(self) -> None:
        self._schema: Schema | None = None
        self._rows: list[Mapping[str, Any]] = []
        self._ids = np.zeros(0, dtype=np.uint64)  # id() of each of ``_rows``
        self._table: Table | None = None
        self.converted = 0  # rows converted by the last call (the rest were reused)
        # What the last call did, for caches of per-row results (``caching.MaskCache``): the
        # table it replaced, and (rows kept, where they were in it, rows converted) as index
        # arrays; ``kept`` is None when the table was built afresh.
        self.previous: Table | None = None
        self.kept: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def table(self, schema: Schema, rows: Sequence[Mapping[str, Any]]) -> Table:
        """``rows_to_table(schema, rows)``, converting only rows not in the last table."""
        self.previous, self.kept = self._table, None
        if self._table is None or schema != self._schema:
            table = rows_to_table(schema, rows)
            self.converted = len(rows)
        else:
            table = self._reuse(schema, rows)
        self._schema, self._table, self._rows = schema, table, list(rows)
        self._ids = _identities(self._rows)
        return table

    def _reuse(self, schema: Schema, rows: Sequence[Mapping[str, Any]]) -> Table:
        # The cache holds every old row, so no new mapping can share an old one's id: equal
        # ids are the same mapping. Matched as sorted arrays (a Python loop over 10,000 rows
        # was ~5 ms of a quick retrain at M).
        ids = _identities(rows)
        n_old = len(self._ids)
        if len(ids) >= n_old and np.array_equal(ids[:n_old], self._ids):  # rows appended
            kept_at = kept_from = np.arange(n_old, dtype=np.int64)
            fresh = np.arange(n_old, len(ids), dtype=np.int64)
        else:
            order = np.argsort(self._ids, kind="stable")
            ranked = self._ids[order]
            place = np.minimum(np.searchsorted(ranked, ids), max(n_old - 1, 0))
            found = ranked[place] == ids if n_old else np.zeros(len(ids), dtype=bool)
            kept_at = np.flatnonzero(found)
            kept_from = order[place[found]].astype(np.int64)
            fresh = np.flatnonzero(~found)
        self.converted = len(fresh)
        self.kept = (kept_at, kept_from, fresh)
        new = rows_to_table(schema, [rows[i] for i in fresh.tolist()]) if len(fresh) else None
        columns = {}
        for name, column in self._table.columns.items():
            out = np.empty(len(rows), dtype=column.dtype)
            out[kept_at] = column[kept_from]
            if new is not None:
                out[fresh] = new.columns[name]
            columns[name] = out
        return Table(columns=columns, n_rows=len(rows))


def _identities(rows: Sequence[Any]) -> np.ndarray:
    return np.fromiter(map(id, rows), dtype=np.uint64, count=len(rows))


def row_slices(n_rows: int, size: int) -> Iterator[slice]:
    """Consecutive slices of at most ``size`` rows covering ``range(n_rows)``."""
    size = max(1, size)
    for start in range(0, n_rows, size):
        yield slice(start, min(n_rows, start + size))


def table_slice(table: Table, rows: slice) -> Table:
    """The rows ``rows`` of ``table`` (views, no copies)."""
    columns = {name: column[rows] for name, column in table.columns.items()}
    return Table(columns=columns, n_rows=len(range(*rows.indices(table.n_rows))))


def table_take(table: Table, rows: np.ndarray) -> Table:
    """The rows ``rows`` (an index array) of ``table``, as a new table."""
    columns = {name: column[rows] for name, column in table.columns.items()}
    return Table(columns=columns, n_rows=len(rows))
