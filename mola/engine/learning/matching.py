"""Which rules fire and which concepts hold on the rows of a table — all of them at once.

Every rule's and concept's exact region (a union of boxes, concepts already inlined by the
language) is flattened into constraints, one per (box, feature) pair. Regions are exact, so
the answers are the evaluator's (a test checks this on generated teachings); unlike compiled
``Condition`` objects the flat arrays also pickle. Two ways to answer, by batch size:

- *Dense* (a few rows, the predict endpoint): all constraints of all regions are tested in a
  handful of numpy operations, constraint-major so each is vectorised along the rows:
  ``ok[c, row]``, then AND within boxes and OR across a target's boxes, in passes over
  "the j-th member of every group". One row against 2,000 rules: well under a millisecond,
  where walking 2,000 condition trees costs tens of milliseconds of per-node overhead.
- *Sparse* (training, big batches): box by box, the most selective constraint is tested on
  the whole column and each further one only on the rows still inside. The work follows the
  rows that survive, not constraints × rows: 100,000 examples against 2,000 rules take a
  few hundred milliseconds instead of seconds.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence

import numpy as np

from mola.engine.language import Condition, Interval, Region
from mola.engine.language.regions import text_constraint_mask
from mola.engine.language.text_region import TextConstraint
from mola.engine.schema import Feature, Schema
from mola.engine.table import Table

# Past this many rows the sparse path beats the dense one.
DENSE_MAX_ROWS = 256
_KINDS = ("number", "category", "boolean")
_NUMBER, _CHOICE, _TEXT = 0, 1, 2  # booleans are looked up like choices (codes 0/1)


class Test:
    """One constraint: a number interval, a table of allowed codes, or a text constraint
    (tested with the language's own text tests), on one column."""

    __slots__ = ("codes", "column", "high", "kind", "lookup", "low", "share", "split", "text")

    def __init__(self, feature: Feature, constraint, width: int) -> None:
        self.column = feature.name
        self.split = None  # (allowed codes, refused codes), on first use
        self.lookup = np.zeros(width, dtype=bool)  # the last entry is for unknown codes (-1)
        self.low, self.high = -math.inf, math.inf
        if isinstance(constraint, TextConstraint):
            self.kind, self.text, self.share = _TEXT, constraint, 1.0  # the dearest: last
            return
        if isinstance(constraint, Interval):
            self.kind = _NUMBER
            # A bound at the schema's min/max is the domain's edge, not a teacher's cut:
            # open it, so a value stored before a range was narrowed behaves as the
            # evaluator says.
            if feature.min is None or constraint.first > feature.min:
                self.low = constraint.first
            if feature.max is None or constraint.last < feature.max:
                self.high = constraint.last
            self.share = _interval_share(feature, self.low, self.high)
            return
        self.kind = _CHOICE
        if feature.kind == "category":
            for code, choice in enumerate(feature.choices):
                self.lookup[code] = choice in constraint
            self.share = len(constraint) / max(1, len(feature.choices))
            self.codes = len(feature.choices)
        else:
            self.lookup[0] = False in constraint
            self.lookup[1] = True in constraint
            self.share = 0.5
            self.codes = 2

    def __reduce__(self):
        # Plain values, the lookup as bytes: the default reduce of a class with __slots__,
        # plus a small ndarray per test, made an M model's ~2,000 tests 7.5 ms of pickling
        # in every version's serialise and 4.3 ms of unpickling in every warm-up.
        return (
            _test,
            (
                self.column,
                self.kind,
                self.low,
                self.high,
                self.share,
                self.lookup.tobytes(),
                getattr(self, "codes", None),
                getattr(self, "text", None),
            ),
        )

    def mask(self, columns: _MaskColumns) -> np.ndarray:
        """Which rows of the whole table pass (a fresh array the caller may modify)."""
        if self.kind == _TEXT:
            return text_constraint_mask(columns.table, self.column, self.text)
        if self.kind == _NUMBER:
            values = columns.numbers[self.column]
            if self.low == -math.inf:
                return values <= self.high
            if self.high == math.inf:
                return values >= self.low
            return (values >= self.low) & (values <= self.high)
        if self.split is None:  # asked for every mask of a big batch: ~3,000 times at M
            self.split = (
                np.flatnonzero(self.lookup[: self.codes]).tolist(),
                np.flatnonzero(~self.lookup[: self.codes]).tolist(),
            )
        allowed, refused = self.split
        if len(allowed) <= len(refused):  # OR the fewer of the allowed and refused codes
            if not allowed:
                return np.zeros(columns.n_rows, dtype=bool)
            result = columns.equals(self.column, allowed[0]).copy()
            for code in allowed[1:]:
                result |= columns.equals(self.column, code)
            return result
        known = columns.equals(self.column, -1, known=True)
        if not refused:
            return known.copy()
        refused_any = columns.equals(self.column, refused[0]).copy()
        for code in refused[1:]:
            refused_any |= columns.equals(self.column, code)
        return known & ~refused_any


def _test(column, kind, low, high, share, lookup, codes, text) -> Test:
    """A ``Test`` as ``Test.__reduce__`` pickled it (the lookup is read-only: never
    written after ``Test.__init__``)."""
    test = Test.__new__(Test)
    test.column, test.kind, test.low, test.high, test.share = column, kind, low, high, share
    test.split = None
    test.lookup = np.frombuffer(lookup, dtype=bool)
    if codes is not None:
        test.codes = codes
    if text is not None:
        test.text = text
    return test


class _MaskColumns:
    """A table's columns for ``Test.mask``, with each (choice column, code) compared once."""

    def __init__(self, table: Table, schema: Schema) -> None:
        self.table = table
        self.n_rows = table.n_rows
        self.numbers = {f.name: table.column(f.name) for f in schema.features if f.kind == "number"}
        # Category codes (-1 = not a choice) and booleans as 0/1 codes, compared alike.
        self.codes = {
            f.name: table.column(f.name).astype(np.int16)
            for f in schema.features
            if f.kind in ("category", "boolean")
        }
        self._equals: dict[tuple[str, int], np.ndarray] = {}

    def equals(self, column: str, code: int, known: bool = False) -> np.ndarray:
        """Cached ``codes == code`` (or, with ``known``, ``codes >= 0``); do not modify."""
        key = (column, code, known)
        if key not in self._equals:
            codes = self.codes[column]
            self._equals[key] = codes >= 0 if known else codes == code
        return self._equals[key]


def _interval_share(feature: Feature, low: float, high: float) -> float:
    """Roughly which share of the domain an interval covers (to test narrow ones first)."""
    if feature.min is None or feature.max is None or feature.max <= feature.min:
        return 0.5 if math.isinf(low) or math.isinf(high) else 0.25
    low = max(low, feature.min)
    high = min(high, feature.max)
    return max(0.0, (high - low) / (feature.max - feature.min))


def prepared_columns(table: Table, schema: Schema, width: int) -> dict[str, np.ndarray]:
    """Columns ready for the dense index: numbers as they are, choice codes with -1 moved to
    the always-False last lookup entry, booleans as 0/1 codes (a view, no copy)."""
    columns = {}
    for feature in schema.features:
        column = table.column(feature.name)
        if feature.kind == "category":
            column = np.where(column < 0, width - 1, column).astype(np.intp)
        elif feature.kind == "boolean":
            column = np.ascontiguousarray(column, dtype=bool).view(np.uint8)
        elif feature.kind == "text":
            continue  # text tests read the table itself (``_DenseIndex.evaluate``)
        columns[feature.name] = column
    return columns


class Matcher:
    """Rules fired and concepts held on a table's rows; small and picklable."""

    def __init__(
        self,
        schema: Schema,
        rules: Sequence[Condition],
        concepts: Sequence[Condition],
        *,
        reuse: dict[int, tuple] | None = None,
    ) -> None:
        """``reuse``: a dict the caller keeps between matchers of one schema (``FitCache``);
        the tests of a region seen last time are taken from it, and it is left holding the
        regions of this matcher only."""
        self.schema = schema
        self.n_rules = len(rules)
        self.n_concepts = len(concepts)
        self.width = 1 + max(
            (len(f.choices) for f in schema.features if f.kind == "category"), default=1
        )
        # targets[t] = boxes of rule/concept t; a box = its tests, most selective first.
        seen = reuse if reuse is not None else {}
        kept: dict[int, tuple] = {}
        self.targets = []
        for region in _regions(rules, concepts):
            entry = seen.get(id(region))
            if entry is None or entry[0] is not region or entry[2] != self.width:
                boxes = [_box_tests(schema, box.constraints, self.width) for box in region.boxes]
                entry = (region, boxes, self.width)  # the region is kept: its id stays unique
            kept[id(region)] = entry
            self.targets.append(entry[1])
        if reuse is not None:
            reuse.clear()
            reuse.update(kept)
        self._dense = _DenseIndex(self.targets, schema)

    def match(self, table: Table) -> tuple[np.ndarray, np.ndarray]:
        """(rules fired (n_rules, n_rows), concepts held (n_concepts, n_rows)), both bool."""
        if table.n_rows <= DENSE_MAX_ROWS:
            columns = prepared_columns(table, self.schema, self.width)
            held = self._dense.evaluate(columns, table)
        else:
            held = np.zeros((len(self.targets), table.n_rows), dtype=bool)
            for target, mask in enumerate(self.masks(table)):
                held[target] = mask
        return held[: self.n_rules], held[self.n_rules :]

    def masks(self, table: Table, which: Sequence[int] | None = None) -> Iterator[np.ndarray]:
        """Each target's rows (rules, then concepts; or the targets ``which``) as a mask of
        the whole table, one at a time: box = AND of its tests, target = OR of its boxes.
        For big tables; a mask costs a fraction of a nanosecond per row and test."""
        columns = _MaskColumns(table, self.schema)
        for target in range(len(self.targets)) if which is None else which:
            boxes = self.targets[target]
            if len(boxes) == 1 and boxes[0]:  # the common case: one box, no union needed
                box = boxes[0][0].mask(columns)
                for test in boxes[0][1:]:
                    box &= test.mask(columns)
                yield box
                continue
            inside = np.zeros(table.n_rows, dtype=bool)
            for tests in boxes:
                if not tests:
                    inside[:] = True
                    break
                box = tests[0].mask(columns)
                for test in tests[1:]:
                    box &= test.mask(columns)
                inside |= box
            yield inside


def _regions(rules: Sequence[Condition], concepts: Sequence[Condition]) -> list[Region]:
    return [condition.region for condition in (*rules, *concepts)]


def _box_tests(schema: Schema, constraints, width: int) -> list[Test]:
    tests = [
        Test(feature, constraint, width)
        for name, constraint in sorted(constraints.items())
        if (feature := schema.feature(name)) is not None
    ]
    return sorted(tests, key=lambda test: test.share)


class _DenseIndex:
    """All tests of all boxes as arrays, for answering a few rows in a few numpy calls."""

    def __init__(self, targets: list[list[list[Test]]], schema: Schema) -> None:
        tests = [test for boxes in targets for box in boxes for test in box]
        box_sizes = [len(box) for boxes in targets for box in boxes]
        self.n_targets = len(targets)
        self.n_tests = len(tests)
        self.n_boxes = len(box_sizes)
        self.kinds = {}
        for kind, names in (
            (_NUMBER, [f.name for f in schema.features if f.kind == "number"]),
            (_CHOICE, [f.name for f in schema.features if f.kind in ("category", "boolean")]),
        ):
            slots = [i for i, t in enumerate(tests) if t.kind == kind]
            position = {name: i for i, name in enumerate(names)}
            self.kinds[kind] = (
                names,
                np.asarray(slots, dtype=np.int64),
                np.asarray([position[tests[i].column] for i in slots], dtype=np.int64),
                np.asarray([tests[i].low for i in slots], dtype=np.float64),
                np.asarray([tests[i].high for i in slots], dtype=np.float64),
                np.concatenate([tests[i].lookup for i in slots]) if slots else np.zeros(0, bool),
                len(tests[0].lookup) if tests else 1,
            )
        self.text_tests = [(i, test) for i, test in enumerate(tests) if test.kind == _TEXT]
        # AND within a box and OR across a target's boxes are done in passes: pass j
        # combines the j-th member of every group that has one (boxes have at most one test
        # per feature, so there are few passes).
        box_starts = np.concatenate([[0], np.cumsum(box_sizes)])[:-1].astype(np.int64)
        self.box_passes = _passes(box_starts, np.asarray(box_sizes, dtype=np.int64))
        target_sizes = np.asarray([len(boxes) for boxes in targets], dtype=np.int64)
        target_starts = np.concatenate([[0], np.cumsum(target_sizes)])[:-1].astype(np.int64)
        self.target_passes = _passes(target_starts, target_sizes)

    def evaluate(self, columns: dict[str, np.ndarray], table: Table) -> np.ndarray:
        n = table.n_rows
        ok = np.empty((self.n_tests, n), dtype=bool)
        for slot, test in self.text_tests:
            ok[slot] = text_constraint_mask(table, test.column, test.text)
        for kind, (names, slots, column, low, high, lookup, width) in self.kinds.items():
            if not len(slots):
                continue
            values = np.stack([columns[name] for name in names])[column]
            if kind == _NUMBER:
                ok[slots] = (values >= low[:, None]) & (values <= high[:, None])
            else:
                ok[slots] = lookup[(np.arange(len(slots)) * width)[:, None] + values]
        boxes = np.ones((self.n_boxes, n), dtype=bool)  # a box without tests: everything
        for j, (members, tests) in enumerate(self.box_passes):
            if j == 0:
                boxes[members] = ok[tests]
            else:
                boxes[members] &= ok[tests]
        targets = np.zeros((self.n_targets, n), dtype=bool)  # a target without boxes: nothing
        for members, member_boxes in self.target_passes:
            targets[members] |= boxes[member_boxes]
        return targets


def _passes(starts: np.ndarray, sizes: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """For groups whose members are stored contiguously (``starts``, ``sizes``): per pass j,
    (the groups that have a j-th member, the index of that member)."""
    result = []
    for j in range(int(sizes.max(initial=0))):
        groups = np.flatnonzero(sizes > j)
        result.append((groups, starts[groups] + j))
    return result
