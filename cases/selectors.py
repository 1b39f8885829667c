"""Reads of a space's case pool: the pool as a table with its rules' masks, listing, cases.

Each process keeps one ``PoolMatrix`` per space (the pool's table and the firing masks of
the conditions asked about). Before each use it is brought up to the pool's current ids:
only cases added since are read and evaluated. The matrix is a cache of the database,
never a source: any process can rebuild it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import orjson
from django.db.models import QuerySet, TextField
from django.db.models.functions import Cast

from cases.models import Case, CasePool
from mola.engine.coverage import PoolMatrix
from mola.engine.locks import KeyedLocks
from mola.engine.lru import LRU
from mola.errors import NotFound
from teaching.language import compile_in_space
from teaching.models import Space

_MATRICES_KEPT = 8  # spaces whose pool a process keeps in memory
_matrices: LRU[int, _Held] = LRU(_MATRICES_KEPT)
_space_locks = KeyedLocks()


def case_get(*, space: Space, case_id: int) -> Case:
    case = Case.objects.filter(space=space, pk=case_id).select_related("answer").first()
    if case is None:
        raise NotFound(f"No case #{case_id} in {space.slug}.")
    return case


def pool_version(*, space: Space) -> int:
    return CasePool.objects.filter(space=space).values_list("version", flat=True).first() or 0


def pool_size(*, space: Space) -> int:
    return CasePool.objects.filter(space=space).values_list("size", flat=True).first() or 0


def answered_ids(*, space: Space) -> set[int]:
    return set(Case.objects.filter(space=space, answer__isnull=False).values_list("id", flat=True))


def training_sample(*, space: Space, limit: int) -> list[dict]:
    """Feature values of at most ``limit`` unanswered cases of the pool, for training: all of
    them, or a sample seeded by the space and the pool's version (the same pool gives the
    same sample, so retrains of one pool agree). An answered case is an example already."""
    ids = np.fromiter(
        Case.objects.filter(space=space, answer__isnull=True)
        .order_by("id")
        .values_list("id", flat=True),
        dtype=np.int64,
    )
    if len(ids) > limit:
        rng = np.random.default_rng([space.pk, pool_version(space=space)])
        ids = np.sort(rng.choice(ids, limit, replace=False))
    return _rows_of(space, ids)


def _rows_of(space: Space, ids: np.ndarray) -> list[dict]:
    """Feature values of the cases ``ids``, in that order. Read as JSON text and parsed by
    orjson: 100,000 cases parse in a fraction of what the ORM's json.loads per row takes."""
    found: dict[int, dict] = {}
    wanted = ids.tolist()
    for start in range(0, len(wanted), 5_000):  # bounded IN lists (SQLite's variable limit)
        chunk = wanted[start : start + 5_000]
        query = Case.objects.filter(space=space, pk__in=chunk).values_list(
            "id", Cast("features", TextField())
        )
        found.update((pk, orjson.loads(text)) for pk, text in query)
    return [found[pk] for pk in wanted if pk in found]


@contextmanager
def pool_matrix(*, space: Space) -> Iterator[PoolMatrix]:
    """This process's matrix of the space's pool, synced to the pool as it is now; held
    under the space's lock for the ``with`` block."""
    schema_key = repr((space.features,))
    with _space_locks(space.pk):
        entry = _matrices.get(space.pk)
        if entry is None or entry.schema_key != schema_key:
            entry = _Held(schema_key, PoolMatrix(space.schema))
        _matrices.put(space.pk, entry)
        # Every change to the pool bumps its version in the same transaction: an unchanged
        # version means unchanged cases, and reading 100,000 ids costs ~0.1 s.
        version = pool_version(space=space)
        if entry.version != version:
            ids = np.fromiter(
                Case.objects.filter(space=space).order_by("id").values_list("id", flat=True),
                dtype=np.int64,
            )
            # A case the pool lost between reading its ids and its rows is left out.
            entry.matrix.sync(ids, lambda new: _rows_of(space, new))
            entry.version = version
        yield entry.matrix


@dataclass
class _Held:
    schema_key: str
    matrix: PoolMatrix
    version: int | None = None


def clear_matrices() -> None:
    """Forget every pool held in this process (tests: ids restart in each database)."""
    _matrices.clear()


@dataclass
class CaseList:
    """Case ids in id order (a ``?where=`` filter applied), loaded a page at a time."""

    space: Space
    ids: list[int]

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, index):
        if isinstance(index, slice):
            chunk = self.ids[index]
            cases = Case.objects.filter(space=self.space, pk__in=chunk).select_related("answer")
            by_id = {case.pk: case for case in cases}
            return [by_id[pk] for pk in chunk if pk in by_id]
        return self[index : index + 1][0]


def case_list(*, space: Space, where: str | None = None) -> QuerySet[Case] | CaseList:
    """The pool's cases in id order; with ``where``, those the condition holds for (a bad
    condition raises ``InvalidInput`` on field ``where`` with its position)."""
    queryset = Case.objects.filter(space=space).select_related("answer").order_by("id")
    if not where:
        return queryset
    condition = compile_in_space(where, space=space, field="where")
    with pool_matrix(space=space) as matrix:
        mask = condition.evaluate(matrix.table)
        ids = np.sort(matrix.ids[mask]).tolist()
    return CaseList(space=space, ids=ids)
