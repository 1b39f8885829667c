"""Every box of every rule packed into numpy arrays, so one box is tested against all others
with a few array comparisons per feature instead of a Python loop over rules.

Layout (one column per box, rows grow by doubling):

- number feature f: ``first[f]`` / ``last[f]`` hold the smallest and largest float64 inside
  the box's interval. The language treats intervals as sets of float64 values (``x > 60``
  starts at the float just above 60), so storing those two floats folds the open/closed
  flags into the bounds and "do they meet?" becomes ``first_a <= last_b and first_b <=
  last_a`` exactly, boundaries included. An unconstrained feature is (-inf, inf).
- category or boolean feature: a bitmask over its values (booleans: bit 0 False, bit 1 True)
  in ``ceil((choices + 1) / 64)`` uint64 words. The extra last bit stands for "a value that
  is not a choice" (code -1 in a Table) and is set only when the box leaves the feature
  free, which keeps point tests equal to ``Region.contains_table``.
- ``owner`` is the rule id, ``label`` a label code (-1 marks a free or removed column).

- text feature: not packed. A box's text constraints are kept per column (``texts``);
  two boxes whose text constraints surely exclude each other (one requires what the other
  forbids, counts that cannot meet) do not meet, and rows are tested with the language's
  own text tests.

Two boxes meet iff they meet on every feature, and a rule's region is the union of its
boxes, so two rules overlap iff some pair of their boxes meets: the packed test is exact,
not a pre-filter — except on text features, where "meet" means "no literal clash", and
whether a text lies in both is settled by building one (``findings.rule_pair``).

Long: one class over one packed layout that every method reads; split, the layout's readers
would sit in modules apart from it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from mola.engine.language import Box, Interval
from mola.engine.language.regions import text_constraint_mask
from mola.engine.language.text_region import TextConstraint
from mola.engine.schema import Feature, Schema
from mola.engine.table import Table

INF = np.inf
_CELLS = 1 << 22  # boxes x rows tested at once by rows_inside_every_rule
_ONE = np.uint64(1)


def _values(feature: Feature) -> tuple[Any, ...]:
    return (False, True) if feature.kind == "boolean" else feature.choices


class BoxStore:
    """Packed boxes of the rules of one schema (see the module docstring for the layout)."""

    def __init__(self, schema: Schema, capacity: int = 256) -> None:
        self.numbers = [f.name for f in schema.features if f.kind == "number"]
        self.sets = [f for f in schema.features if f.kind not in ("number", "text")]
        self.has_text = any(f.kind == "text" for f in schema.features)
        # Per column: the box's text constraints by feature name (empty for most schemas).
        self.texts: list[dict[str, TextConstraint]] = []
        self._number_index = {name: i for i, name in enumerate(self.numbers)}
        self._set_index = {f.name: i for i, f in enumerate(self.sets)}
        self._bit_of = [{v: i for i, v in enumerate(_values(f))} for f in self.sets]
        self._words = [(len(_values(f)) + 1 + 63) // 64 for f in self.sets]
        self.size = 0  # columns in use, including removed ones until the next compaction
        self.dead = 0
        self._allocate(capacity)
        # Per column, which features the box constrains: only those can make two boxes miss.
        self.constrained: list[tuple[tuple[int, ...], tuple[int, ...]]] = []
        # Per column and constrained set feature: the allowed values as a bool lookup by
        # Table code (code -1 lands on the last entry, "not a choice").
        self.allowed: list[tuple[np.ndarray, ...]] = []
        self.columns_of: dict[int, list[int]] = {}

    def _allocate(self, capacity: int) -> None:
        self.capacity = capacity
        self.first = np.full((len(self.numbers), capacity), -INF)
        self.last = np.full((len(self.numbers), capacity), INF)
        self.bits = [np.zeros((words, capacity), np.uint64) for words in self._words]
        self.owner = np.full(capacity, -1, np.int64)
        self.label = np.full(capacity, -1, np.int32)

    # --- writing -------------------------------------------------------------------------

    def add(self, owner: int, label: int, boxes: tuple[Box, ...]) -> None:
        """Append one column per box of rule ``owner`` (label code ``label`` >= 0)."""
        if self.size + len(boxes) > self.capacity:
            self._grow(max(2 * self.capacity, self.size + len(boxes)))
        columns = self.columns_of.setdefault(owner, [])
        for box in boxes:
            self._write(self.size, owner, label, box)
            columns.append(self.size)
            self.size += 1

    def remove(self, owner: int) -> None:
        """Forget every box of rule ``owner``; columns are reclaimed by ``compact``."""
        columns = self.columns_of.pop(owner, [])
        self.label[columns] = -1
        self.owner[columns] = -1
        self.dead += len(columns)
        if self.dead > 1024 and self.dead * 2 > self.size:
            self.compact()

    def compact(self) -> None:
        keep = np.flatnonzero(self.label[: self.size] >= 0)
        self.first[:, : len(keep)] = self.first[:, keep]
        self.last[:, : len(keep)] = self.last[:, keep]
        for array in self.bits:
            array[:, : len(keep)] = array[:, keep]
        self.owner[: len(keep)] = self.owner[keep]
        self.label[: len(keep)] = self.label[keep]
        self.constrained = [self.constrained[i] for i in keep]
        self.allowed = [self.allowed[i] for i in keep]
        self.texts = [self.texts[i] for i in keep]
        self.first[:, len(keep) :], self.last[:, len(keep) :] = -INF, INF
        self.owner[len(keep) :], self.label[len(keep) :] = -1, -1
        self.size, self.dead = len(keep), 0
        self.columns_of = {}
        for column, owner in enumerate(self.owner[: self.size].tolist()):
            self.columns_of.setdefault(owner, []).append(column)

    def _grow(self, capacity: int) -> None:
        old = (self.first, self.last, self.bits, self.owner, self.label)
        self._allocate(capacity)
        self.first[:, : self.size] = old[0][:, : self.size]
        self.last[:, : self.size] = old[1][:, : self.size]
        for new, previous in zip(self.bits, old[2], strict=True):
            new[:, : self.size] = previous[:, : self.size]
        self.owner[: self.size] = old[3][: self.size]
        self.label[: self.size] = old[4][: self.size]

    def _write(self, column: int, owner: int, label: int, box: Box) -> None:
        numbers, sets = [], []
        texts: dict[str, TextConstraint] = {}
        for name, constraint in box.constraints.items():
            if isinstance(constraint, TextConstraint):
                texts[name] = constraint
            elif isinstance(constraint, Interval):
                f = self._number_index[name]
                self.first[f, column], self.last[f, column] = constraint.first, constraint.last
                numbers.append(f)
            else:
                f = self._set_index[name]
                self.bits[f][:, column] = self._mask(f, [self._bit_of[f][v] for v in constraint])
                sets.append(f)
        for f in range(len(self.sets)):
            if f not in sets:  # free: every value, and the "not a choice" bit
                self.bits[f][:, column] = self._mask(f, range(len(self._bit_of[f]) + 1))
        self.owner[column], self.label[column] = owner, label
        self.constrained.append((tuple(numbers), tuple(sets)))  # columns are written in order
        self.texts.append(texts)
        self.allowed.append(tuple(self._unpacked(f, column) for f in sets))

    def _mask(self, f: int, bits: Any) -> np.ndarray:
        words = np.zeros(self._words[f], np.uint64)
        for bit in bits:
            words[bit // 64] |= _ONE << np.uint64(bit % 64)
        return words

    # --- reading -------------------------------------------------------------------------

    def meeting(self, column: int, candidates: np.ndarray | slice) -> np.ndarray:
        """The columns among ``candidates`` whose box meets the box in ``column`` (exact).

        ``candidates`` is an index array the caller has filtered, or a slice, of which only
        live columns with another label than ``column``'s are kept. Only the features
        ``column`` constrains are compared: a free feature meets anything.
        """
        numbers, sets = self.constrained[column]
        if isinstance(candidates, slice):
            # Labels and the first feature on the contiguous slice (fast), then narrow the
            # survivors with index arrays.
            start = candidates.start or 0
            labels = self.label[candidates]
            keep = (labels >= 0) & (labels != self.label[column])
            if sets:
                keep &= self._sets_meet(sets[0], column, candidates)
                sets = sets[1:]
            elif numbers:
                keep &= self._numbers_meet(numbers[0], column, candidates)
                numbers = numbers[1:]
            candidates = np.flatnonzero(keep) + start
        for f in sets:
            if not len(candidates):
                return candidates
            candidates = candidates[self._sets_meet(f, column, candidates)]
        for f in numbers:
            if not len(candidates):
                return candidates
            candidates = candidates[self._numbers_meet(f, column, candidates)]
        if self.has_text and len(candidates):
            candidates = self._texts_meet(column, candidates)
        return candidates

    def _texts_meet(self, column: int, candidates: np.ndarray) -> np.ndarray:
        """The candidates whose text constraints do not surely exclude ``column``'s."""
        mine, texts = self.texts[column], self.texts
        keep = [
            not any(
                (constraint & theirs[name]).is_empty()
                for name, constraint in mine.items()
                if name in theirs
            )
            for theirs in (texts[c] for c in candidates.tolist())
        ]
        return candidates[np.array(keep, dtype=bool)]

    def meeting_later(self) -> Iterator[tuple[int, np.ndarray]]:
        """For every live column c, ``meeting(c, slice(c + 1, size))``: the later columns
        whose box meets c's, with another label. Equal results, found faster: the later
        columns that allow one of c's values on one set feature c constrains (the feature
        leaving the fewest) are gathered from per-value lists first, then tested."""
        size = self.size
        labels = self.label[:size]
        holding: list[list[np.ndarray]] = []  # per set feature and value bit: the columns
        for f, array in enumerate(self.bits):
            per_bit = []
            for bit in range(len(self._bit_of[f]) + 1):
                word = array[bit // 64, :size]
                per_bit.append(np.flatnonzero((word >> np.uint64(bit % 64)) & _ONE))
            holding.append(per_bit)
        for column in range(size):
            label = labels[column]
            if label < 0:
                continue
            sets = self.constrained[column][1]
            if not sets:
                yield column, self.meeting(column, slice(column + 1, size))
                continue
            best: list[np.ndarray] | None = None
            best_cost = 0
            for f, allowed in zip(sets, self.allowed[column], strict=True):
                arrays = [holding[f][bit] for bit in np.flatnonzero(allowed).tolist()]
                cost = sum(len(a) for a in arrays)
                if best is None or cost < best_cost:
                    best, best_cost = arrays, cost
            assert best is not None
            if len(best) == 1:
                candidates = best[0]
            elif best:
                candidates = np.unique(np.concatenate(best))
            else:
                candidates = np.zeros(0, np.intp)
            candidates = candidates[np.searchsorted(candidates, column + 1) :]
            found = labels[candidates]
            candidates = candidates[(found >= 0) & (found != label)]
            yield column, self.meeting(column, candidates)

    def _numbers_meet(self, f: int, column: int, candidates: np.ndarray | slice) -> np.ndarray:
        first, last = self.first[f], self.last[f]
        return (first[candidates] <= last[column]) & (last[candidates] >= first[column])

    def _sets_meet(self, f: int, column: int, candidates: np.ndarray | slice) -> np.ndarray:
        array = self.bits[f]
        meets = (array[0, candidates] & array[0, column]) != 0
        for word in range(1, array.shape[0]):
            meets |= (array[word, candidates] & array[word, column]) != 0
        return meets

    def rows_inside(self, owner: int, rows: RowsByValue) -> np.ndarray:
        """The rows (sorted indices) of a table that lie in rule ``owner``'s region. Only the
        features a box constrains are tested, as ``Region.contains_table`` does, so both
        agree row for row."""
        parts = [self._rows_in_box(column, rows) for column in self.columns_of.get(owner, ())]
        if len(parts) == 1:
            return parts[0]
        return np.unique(np.concatenate(parts)) if parts else np.zeros(0, np.intp)

    def rows_inside_every_rule(self, rows: RowsByValue) -> dict[int, np.ndarray]:
        """``rows_inside`` of every rule at once, equal array for array: boxes that open on
        the same values of the same set feature look at the same rows, so they are tested
        together, a matrix of boxes by rows per feature any of them constrains."""
        table = rows.table
        by_start: dict[Any, list[int]] = {}
        for column in range(self.size):
            if self.label[column] < 0:
                continue
            sets = self.constrained[column][1]
            key = (sets[0], self.allowed[column][0].tobytes()) if sets else None
            by_start.setdefault(key, []).append(column)
        found: dict[int, np.ndarray] = {}
        for key, columns in by_start.items():
            if key is None:
                candidates = np.arange(table.n_rows)
            else:
                groups = rows.groups[key[0]]
                picked = [groups[code] for code in np.flatnonzero(self.allowed[columns[0]][0])]
                candidates = np.sort(np.concatenate(picked)) if len(picked) > 1 else picked[0]
            step = max(1, _CELLS // max(1, len(candidates)))
            for start in range(0, len(columns), step):
                chunk = columns[start : start + step]
                inside = self._inside_matrix(chunk, candidates, table, skip=key is not None)
                found.update(zip(chunk, (candidates[row] for row in inside), strict=True))
        if self.has_text:
            for column in list(found):
                found[column] = self._text_rows(column, found[column], table)
        result: dict[int, np.ndarray] = {}
        for owner, columns in self.columns_of.items():
            parts = [found[column] for column in columns]
            if len(parts) == 1:
                result[owner] = parts[0]
            else:
                result[owner] = np.unique(np.concatenate(parts)) if parts else np.zeros(0, np.intp)
        return result

    def _inside_matrix(
        self, columns: list[int], candidates: np.ndarray, table: Table, *, skip: bool
    ) -> np.ndarray:
        """Boxes by candidate rows: whether the row lies in the box, testing only the
        features each box constrains (its first set feature too unless ``skip``: the
        candidates already hold only its allowed values)."""
        inside = np.ones((len(columns), len(candidates)), bool)
        set_rows: dict[int, list[tuple[int, np.ndarray]]] = {}
        number_rows: dict[int, list[int]] = {}
        for i, column in enumerate(columns):
            numbers, sets = self.constrained[column]
            allowed = self.allowed[column]
            for position in range(1 if skip else 0, len(sets)):
                set_rows.setdefault(sets[position], []).append((i, allowed[position]))
            for f in numbers:
                number_rows.setdefault(f, []).append(i)
        for f, entries in set_rows.items():
            lookup = np.ones((len(columns), len(self._bit_of[f]) + 1), bool)
            for i, allowed in entries:
                lookup[i] = allowed
            codes = table.columns[self.sets[f].name][candidates].astype(np.intp)
            inside &= lookup[:, codes]
        for f, which in number_rows.items():
            values = table.columns[self.numbers[f]][candidates]
            boxes = np.asarray(columns)[which]
            low, high = self.first[f, boxes][:, None], self.last[f, boxes][:, None]
            inside[which] &= (values >= low) & (values <= high)
        return inside

    def _rows_in_box(self, column: int, rows: RowsByValue) -> np.ndarray:
        numbers, sets = self.constrained[column]
        allowed, table = self.allowed[column], rows.table
        if sets:
            # Gather the rows holding an allowed value of the first set feature, then
            # narrow: a box that names a skill looks at that skill's rows only.
            groups = rows.groups[sets[0]]
            picked = [groups[code] for code in np.flatnonzero(allowed[0])]
            found = np.sort(np.concatenate(picked)) if len(picked) > 1 else picked[0]
        else:
            found = np.arange(table.n_rows)
        for f, lookup in zip(sets[1:], allowed[1:], strict=True):
            codes = table.columns[self.sets[f].name][found]
            found = found[lookup[codes.astype(np.intp)]]
        for f in numbers:
            values = table.columns[self.numbers[f]][found]
            found = found[(values >= self.first[f, column]) & (values <= self.last[f, column])]
        return self._text_rows(column, found, table) if self.has_text else found

    def _text_rows(self, column: int, found: np.ndarray, table: Table) -> np.ndarray:
        """The rows among ``found`` whose texts satisfy the box's text constraints (tested
        over the whole table once per atom: the table caches each atom's mask)."""
        for name, constraint in self.texts[column].items():
            if not len(found):
                break
            found = found[text_constraint_mask(table, name, constraint)[found]]
        return found

    def _unpacked(self, f: int, column: int) -> np.ndarray:
        """The box's bitmask on set feature ``f`` as one bool per value (+ "not a choice")."""
        bits = np.arange(len(self._bit_of[f]) + 1)
        words = self.bits[f][bits // 64, column]
        return ((words >> (bits % 64).astype(np.uint64)) & _ONE) != 0

    def containing(self, point_codes: Mapping[str, Any]) -> np.ndarray:
        """Columns whose box holds the point (numbers as floats, categories as Table codes,
        booleans as bool), matching ``Region.contains_table`` on a valid row."""
        keep = self.label[: self.size] >= 0
        for f, name in enumerate(self.numbers):
            value = point_codes[name]
            keep &= (self.first[f, : self.size] <= value) & (self.last[f, : self.size] >= value)
        for f, feature in enumerate(self.sets):
            code = int(point_codes[feature.name])
            bit = len(self._bit_of[f]) if code < 0 else code
            word = self.bits[f][bit // 64, : self.size]
            keep &= ((word >> np.uint64(bit % 64)) & _ONE) != 0
        found = np.flatnonzero(keep)
        if self.has_text and len(found):
            texts = [name for name, value in point_codes.items() if isinstance(value, str)]
            columns = {name: np.array([point_codes[name]], dtype=object) for name in texts}
            table = Table(columns, 1)
            found = np.array(
                [c for c in found.tolist() if self._text_rows(c, np.zeros(1, np.intp), table).size],
                dtype=np.intp,
            )
        return found


class RowsByValue:
    """A table's rows grouped by the value of each category and boolean feature (in
    ``BoxStore.sets`` order; the last group holds "not a choice", code -1)."""

    def __init__(self, store: BoxStore, table: Table) -> None:
        self.table = table
        self.groups: list[list[np.ndarray]] = []
        for f, feature in enumerate(store.sets):
            count = len(store._bit_of[f]) + 1
            codes = table.columns[feature.name].astype(np.intp)
            codes[codes < 0] = count - 1
            order = np.argsort(codes, kind="stable")
            bounds = np.searchsorted(codes[order], np.arange(count + 1))
            self.groups.append([order[bounds[i] : bounds[i + 1]] for i in range(count)])
