"""The examples of a space as growing numpy columns: a ``Table`` for the language's
evaluator, plus the "same case, different label" search behind ``example_conflict``."""

from __future__ import annotations

import numpy as np

from mola.engine.consensus.items import ExampleItem
from mola.engine.schema import Feature, Schema
from mola.engine.table import Table, table_from_rows
from mola.engine.text import near_duplicate_key

NO_RULE = np.iinfo(np.int64).min


class ExampleStore:
    """Examples in slots (a removed example's slot is reused). ``label`` is -1 on a free slot.

    Two examples conflict when their labels differ and, feature by feature, their values are
    equal (categories, booleans), near-duplicates (texts: equal once case, punctuation and
    spacing are set aside, see ``near_duplicate_key``) or within ``tolerance`` of the
    feature's range (numbers).
    The range is ``max - min`` from the schema; when the schema leaves either end open it is
    the spread of the examples themselves, which moves as examples come and go — so
    ``spreads_changed`` tells the index when every example must be checked again.
    """

    def __init__(self, schema: Schema, tolerance: float, capacity: int = 256) -> None:
        self.schema = schema
        self.tolerance = tolerance
        self.numbers = [f for f in schema.features if f.kind == "number"]
        self.others = [f for f in schema.features if f.kind not in ("number", "text")]
        self.texts = [f for f in schema.features if f.kind == "text"]
        self.items: dict[int, ExampleItem] = {}
        self.slot_of: dict[int, int] = {}
        self._free: list[int] = []
        self.size = 0
        self.version = 0  # bumped on every change: cached masks over the slots go stale
        self._allocate(capacity)
        self._spreads = self._current_spreads()

    def _allocate(self, capacity: int) -> None:
        self.columns = {f.name: _blank_column(f, capacity) for f in self.schema.features}
        # Per text feature: each example's near-duplicate key, what "the same case" compares.
        self.same_text = {f.name: _blank_column(f, capacity) for f in self.texts}
        self.label = np.full(capacity, -1, np.int32)
        self.ids = np.full(capacity, -1, np.int64)
        self.training = np.zeros(capacity, bool)
        # The rule a counterexample refutes (``NO_RULE`` when none: -1 is the preview's id).
        self.refutes = np.full(capacity, NO_RULE, np.int64)
        self.capacity = capacity

    def _grow(self) -> None:
        columns, label, training, ids = self.columns, self.label, self.training, self.ids
        refutes = self.refutes
        same_text = self.same_text
        self._allocate(2 * self.capacity)
        for name, column in columns.items():
            self.columns[name][: self.size] = column[: self.size]
        for name, column in same_text.items():
            self.same_text[name][: self.size] = column[: self.size]
        self.label[: self.size] = label[: self.size]
        self.training[: self.size] = training[: self.size]
        self.ids[: self.size] = ids[: self.size]
        self.refutes[: self.size] = refutes[: self.size]

    # --- writing -------------------------------------------------------------------------

    def add(self, item: ExampleItem, label: int) -> int:
        """Store ``item`` (not yet present) with label code ``label``; its slot."""
        if self._free:
            slot = self._free.pop()
        else:
            if self.size == self.capacity:
                self._grow()
            slot, self.size = self.size, self.size + 1
        row = table_from_rows(self.schema, [item.point])
        for name, column in row.columns.items():
            self.columns[name][slot] = column[0]
        for name, keys in self.same_text.items():
            keys[slot] = near_duplicate_key(item.point.get(name) or "")
        self.label[slot], self.ids[slot] = label, item.id
        self.training[slot] = not item.evaluation
        self.refutes[slot] = NO_RULE if item.refutes is None else item.refutes
        self.items[item.id], self.slot_of[item.id] = item, slot
        self.version += 1
        return slot

    def remove(self, example_id: int) -> None:
        slot = self.slot_of.pop(example_id)
        del self.items[example_id]
        self.label[slot], self.ids[slot], self.training[slot] = -1, -1, False
        self.refutes[slot] = NO_RULE
        self._free.append(slot)
        self.version += 1

    def spreads_changed(self) -> bool:
        """Whether the tolerance of some number feature moved since the last call."""
        spreads = self._current_spreads()
        changed = not np.array_equal(spreads, self._spreads)
        self._spreads = spreads
        return changed

    # --- reading -------------------------------------------------------------------------

    def table(self) -> Table:
        """All slots as a Table (free slots hold junk: mask them with ``alive``)."""
        return Table(
            {name: column[: self.size] for name, column in self.columns.items()}, self.size
        )

    @property
    def alive(self) -> np.ndarray:
        return self.label[: self.size] >= 0

    def item_at(self, slot: int) -> ExampleItem:
        return self.items[int(self.ids[slot])]

    def point_codes(self, slot: int) -> dict[str, float | int | bool]:
        """One example's values as the Table stores them (category codes, not strings)."""
        return {name: column[slot] for name, column in self.columns.items()}

    def tolerances(self) -> np.ndarray:
        """Per number feature (schema order): how far apart two values may be and still be
        "the same case". The bound is inclusive, with a hair of slack so that float rounding
        (80.4 - 80 is 0.40000000000000568) does not decide a case a coach sees as equal."""
        return self.tolerance * self._spreads * (1 + 1e-9)

    def conflicting(self, slot: int, after: int = -1) -> np.ndarray:
        """Slots (> ``after``) of examples with another label at the same or nearly the same
        point as the example in ``slot``."""
        label = self.label[: self.size]
        keep = (label >= 0) & (label != self.label[slot])
        keep[: after + 1] = False
        candidates = np.flatnonzero(keep)
        for feature in self.others:  # equality first: the cheapest and most selective
            column = self.columns[feature.name]
            candidates = candidates[column[candidates] == column[slot]]
        for keys in self.same_text.values():
            if not len(candidates):
                break
            candidates = candidates[keys[candidates] == keys[slot]]
        for feature, tolerance in zip(self.numbers, self.tolerances(), strict=True):
            if not len(candidates):
                break
            column = self.columns[feature.name]
            candidates = candidates[np.abs(column[candidates] - column[slot]) <= tolerance]
        return candidates

    def _current_spreads(self) -> np.ndarray:
        spreads = np.zeros(len(self.numbers))
        alive = self.alive
        for i, feature in enumerate(self.numbers):
            if feature.min is not None and feature.max is not None:
                spreads[i] = feature.max - feature.min
            elif alive.any():
                values = self.columns[feature.name][: self.size][alive]
                spreads[i] = float(values.max() - values.min())
        return spreads


def _blank_column(feature: Feature, size: int) -> np.ndarray:
    """A column typed as ``Table`` types it (float64 / int32 codes / bool)."""
    if feature.kind == "number":
        return np.full(size, np.nan)
    if feature.kind == "category":
        return np.full(size, -1, np.int32)
    if feature.kind == "text":
        return np.full(size, "", dtype=object)
    return np.zeros(size, bool)
