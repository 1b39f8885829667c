"""What one fit of a space leaves for the next, so that a retrain pays for what changed.

A teacher adds one example to 100,000, or one rule to 2,000, and waits for the retrain; most
of a fit's preparation would be the same as last time. ``FitCache`` keeps these pieces:

- the examples' table (``TableCache``): unchanged rows are taken from the last table, only
  new rows are converted from their dicts;
- each condition's flattened tests (``Matcher``): reused while the condition object is;
- the last matcher itself, while every rule and concept is the same condition object (a
  retrain after an example): building one from its reused tests still cost ~5 ms at M, and
  the same object is named by the model part of the version before without pickling it
  again (parts.py);
- which rows of that table every rule fires on and every concept holds on (``MaskCache``):
  a quick retrain at M matched 650 conditions on 10,000 rows each time (~10 ms of its
  ~135 ms CPU) where one new row or one new rule needs matching;
- the boosted trees of the last fit that fitted them (``fit(…, trees="reuse")`` reuses
  them: a retrain with reused trees is not the model a full fit gives, and says so in its
  metrics).

All recognise their inputs by identity (the same feature mapping, the same compiled
``Condition``), which the worker guarantees by keeping them per space while they are
unchanged. A fit with a cache and ``trees="fit"`` gives exactly the model a fit without one
gives (a test checks this over a series of snapshots) — but beyond forest.GRID_ROWS examples,
where the forest keeps the setting its last grid search chose while the examples are about
as many (forest_trust.settled_setting): there it is the model a search choosing the same gives. Keep one cache per space and process; not thread-safe.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mola.engine.learning.arrays import TableCache, table_take
from mola.engine.learning.facts import ExampleFacts
from mola.engine.learning.forest import ExampleTrees
from mola.engine.learning.matching import Matcher
from mola.engine.learning.neighbours import ExampleIndex
from mola.engine.schema import Schema
from mola.engine.table import Table

# Masks kept per space and process at most (targets × rows, a byte each): M's 650 × 10,000
# are 6.5 MB; L's 2,150 × 100,000 would be 215 MB, so L matches as before.
MASK_CACHE_ENTRIES = 1 << 25


class MaskCache:
    """Each target's (rule's, concept's) mask over the rows of the last examples' table.

    A target is recognised by the identity of its flattened tests (``Matcher.targets[t]``,
    which the matcher reuses while the condition object is the same: ``FitCache.boxes``),
    a row by ``TableCache``'s identity of its mapping; a mask is a pure function of both, so
    the masks are exactly what matching every row again gives."""

    def __init__(self) -> None:
        self.table: Table | None = None  # the table the masks are of
        self.masks: np.ndarray | None = None  # (targets, rows) bool
        self.position: dict[int, tuple[Any, int]] = {}  # id(tests) → (tests, row of masks)
        self.matched = 0  # targets the last call matched on every row (the rest were kept)

    def masks_of(self, matcher: Matcher, table: Table, tables: TableCache) -> np.ndarray | None:
        """(targets, rows) every target's mask over ``table``, just built by ``tables``
        (None past MASK_CACHE_ENTRIES). The caller must not modify it."""
        targets = matcher.targets
        if len(targets) * table.n_rows > MASK_CACHE_ENTRIES:
            self.__init__()
            return None
        usable = (
            self.masks is not None and tables.kept is not None and self.table is tables.previous
        )
        known, known_from, new = [], [], []
        for t, tests in enumerate(targets):
            entry = self.position.get(id(tests)) if usable else None
            if entry is not None and entry[0] is tests:
                known.append(t)
                known_from.append(entry[1])
            else:
                new.append(t)
        masks = np.empty((len(targets), table.n_rows), dtype=bool)
        if known:
            kept_at, kept_from, fresh = tables.kept
            known_at, known_from = np.asarray(known), np.asarray(known_from)
            k = len(kept_at)
            if _is_range(kept_at) and _is_range(kept_from):  # rows only added at the end
                if _is_range(known_at) and _is_range(known_from):
                    masks[: len(known), :k] = self.masks[: len(known), :k]
                else:
                    masks[known_at, :k] = self.masks[known_from, :k]
            else:
                masks[np.ix_(known_at, kept_at)] = self.masks[np.ix_(known_from, kept_from)]
            if len(fresh):
                # A few rows: all targets at once (the matcher's dense path) is cheaper than
                # one target at a time.
                fired, held = matcher.match(table_take(table, fresh))
                masks[np.ix_(known_at, fresh)] = np.concatenate([fired, held])[known_at]
        self.matched = len(new)
        for t, mask in zip(new, matcher.masks(table, new), strict=True):
            masks[t] = mask
        self.table, self.masks = table, masks
        self.position = {id(tests): (tests, t) for t, tests in enumerate(targets)}
        return masks


def _is_range(positions: np.ndarray) -> bool:
    """Whether ``positions`` are 0, 1, 2, …"""
    return not len(positions) or (
        positions[-1] == len(positions) - 1 and bool(np.all(np.diff(positions) == 1))
    )


class FitCache:
    """Pass the same instance to every ``fit`` of one space (``fit(…, cache=…)``)."""

    def __init__(self) -> None:
        self.schema: Schema | None = None
        self.tables = TableCache()
        # id(region) → (region, its boxes of tests, the matcher width): see ``Matcher``.
        self.boxes: dict[int, tuple[Any, list, int]] = {}
        self.trees: ExampleTrees | None = None  # the newest fitted trees of the space
        self.index: ExampleIndex | None = None  # the last fit's neighbour index
        self.masks = MaskCache()
        self.facts: ExampleFacts | None = None  # the last fit's examples' facts (facts.py)
        self._matcher: tuple[list, Matcher] | None = None  # (its conditions' regions, it)

    def matcher(self, schema: Schema, rules: list, concepts: list) -> Matcher:
        """A Matcher of ``rules`` and ``concepts`` (conditions): the last one when every
        condition's region is the very same object, in the same places (a matcher is a pure
        function of them and the schema, and nothing changes one once built); else a new
        one, its tests taken from ``boxes`` where it can. Call ``for_schema`` first."""
        regions = [condition.region for condition in (*rules, *concepts)]
        kept = self._matcher
        if (
            kept is not None
            and kept[1].n_rules == len(rules)
            and len(kept[0]) == len(regions)
            and all(a is b for a, b in zip(kept[0], regions, strict=True))
        ):
            return kept[1]
        matcher = Matcher(schema, rules, concepts, reuse=self.boxes)
        self._matcher = (regions, matcher)
        return matcher

    def keep_trees(self, trees: ExampleTrees | None) -> None:
        """Remember ``trees`` (say, of a stored model another process fitted) for reuse, if
        they were fitted at a newer revision than the ones kept. Call ``for_schema`` first:
        it empties a cache filled for another schema, trees included."""
        revision = getattr(trees, "revision", None)
        if revision is not None and (self.trees is None or revision > self.trees.revision):
            self.trees = trees

    def for_schema(self, schema: Schema) -> FitCache:
        """This cache, emptied first if it was filled for another schema."""
        if schema != self.schema:
            self.__init__()
            self.schema = schema
        return self
