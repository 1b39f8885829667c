"""What one fit of a space leaves for the next, so that a retrain pays for what changed.

A teacher adds one example to 100,000, or one rule to 2,000, and waits for the retrain; most
of a fit's preparation would be the same as last time. ``FitCache`` keeps two such pieces:

- the examples' table (``TableCache``): unchanged rows are taken from the last table, only
  new rows are converted from their dicts;
- each condition's flattened tests (``Matcher``): reused while the condition object is;
- the boosted trees of the last fit that fitted them (``fit(…, trees="reuse")`` reuses
  them: a retrain with reused trees is not the model a full fit gives, and says so in its
  metrics).

Both recognise their inputs by identity (the same feature mapping, the same compiled
``Condition``), which the worker guarantees by keeping them per space while they are
unchanged. A fit with a cache and ``trees="fit"`` gives exactly the model a fit without one
gives (a test checks this over a series of snapshots) — but beyond forest.GRID_ROWS examples,
where the forest keeps the setting its last grid search chose while the examples are about
as many (forest.settled_setting): there it is the model a search choosing the same gives. Keep one cache per space and process; not thread-safe.
"""

from __future__ import annotations

from typing import Any

from mola.engine.learning.arrays import TableCache
from mola.engine.learning.forest import ExampleTrees
from mola.engine.schema import Schema


class FitCache:
    """Pass the same instance to every ``fit`` of one space (``fit(…, cache=…)``)."""

    def __init__(self) -> None:
        self.schema: Schema | None = None
        self.tables = TableCache()
        # id(region) → (region, its boxes of tests, the matcher width): see ``Matcher``.
        self.boxes: dict[int, tuple[Any, list, int]] = {}
        self.trees: ExampleTrees | None = None  # the newest fitted trees of the space

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
