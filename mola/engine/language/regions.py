"""Exact regions of a schema's feature space: finite unions of boxes.

A box constrains some features (an interval for a number, a set of choices for a category,
a set of truth values for a boolean) and leaves the others free over their whole domain.
Regions are closed under intersection, union and complement, so "can these two rules fire
on the same case?" is ``a.intersect(b).is_empty()``, answered exactly, with a witness.

Invariants every Region keeps: each box is non-empty, every constraint lies inside its
feature's domain (number min/max, category choices) and no constraint equals the whole
domain (those are dropped), so ``Box({})`` is everything and ``()`` is nothing.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Union

import numpy as np

from mola.engine.language.errors import ConditionError
from mola.engine.language.intervals import INF, Interval
from mola.engine.language.text_region import ANY_COUNT, TextConstraint, text_domain
from mola.engine.schema import Feature, Schema
from mola.engine.table import Table

MAX_BOXES = 512
# Past these sizes the quadratic clean-ups cost more than they save; the cap still holds.
_SUBSUME_LIMIT = 128
_MERGE_LIMIT = 64

Constraint = Union[Interval, frozenset[str], frozenset[bool], TextConstraint]  # noqa: UP007
Domains = Mapping[str, Constraint]


@dataclass(frozen=True)
class Box:
    """Constraints by feature name; a feature not mentioned is unconstrained."""

    constraints: Mapping[str, Constraint]
    _hash: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        constraints = types.MappingProxyType(dict(self.constraints))
        object.__setattr__(self, "constraints", constraints)
        # Hashed once: simplification de-duplicates boxes through dicts all the time.
        object.__setattr__(self, "_hash", hash(frozenset(constraints.items())))

    def __hash__(self) -> int:
        return self._hash


@dataclass(frozen=True)
class Region:
    """A union of boxes over one schema (no boxes = empty). Build with ``everything``,
    ``nothing`` or ``where`` and combine with the set operations."""

    boxes: tuple[Box, ...]
    schema: Schema = field(repr=False, compare=False)
    domains: Domains = field(repr=False, compare=False, default_factory=dict)

    def __post_init__(self) -> None:
        if not self.domains:  # built by hand as Region(boxes, schema)
            object.__setattr__(self, "domains", schema_domains(self.schema))

    # --- construction --------------------------------------------------------------------

    @classmethod
    def everything(cls, schema: Schema, domains: Domains | None = None) -> Region:
        return cls((Box({}),), schema, domains or schema_domains(schema))

    @classmethod
    def nothing(cls, schema: Schema, domains: Domains | None = None) -> Region:
        return cls((), schema, domains or schema_domains(schema))

    @classmethod
    def where(
        cls, schema: Schema, constraints: Mapping[str, Constraint], domains: Domains | None = None
    ) -> Region:
        """The one box ``constraints`` (clipped to the schema's domains; may be empty)."""
        domains = domains or schema_domains(schema)
        box = _normalised_box(constraints, domains)
        return cls(() if box is None else (box,), schema, domains)

    def _with(self, boxes: Iterable[Box]) -> Region:
        boxes = list(boxes)
        if len(boxes) > 1:
            boxes = list(_simplified(boxes, self.domains))
        return Region(tuple(boxes), self.schema, self.domains)

    # --- set algebra ---------------------------------------------------------------------

    def is_empty(self) -> bool:
        return not self.boxes

    def is_everything_form(self) -> bool:
        """Whether the region is written as everything (one unconstrained box): cheap."""
        return len(self.boxes) == 1 and not self.boxes[0].constraints

    def is_everything(self) -> bool:
        """Whether the region holds every point of the schema's domain (exact)."""
        if any(not box.constraints for box in self.boxes):
            return True  # the normal form of everything; the exact test follows
        if self.boxes and _projection_misses(self.boxes, self.domains):
            return False  # a feature every box narrows, and together they miss a value
        return self.complement().is_empty()

    def union(self, other: Region) -> Region:
        return self._with([*self.boxes, *other.boxes])

    def intersect(self, other: Region) -> Region:
        pieces: list[Box] = []
        for a in self.boxes:
            for b in other.boxes:
                box = _intersect_boxes(a, b)
                if box is not None:
                    pieces.append(box)
            if len(pieces) > 4 * MAX_BOXES:
                raise _too_complex()
        return self._with(pieces)

    def complement(self) -> Region:
        """Everything in the schema's domain outside this region (exact)."""
        result = Region.everything(self.schema, self.domains)
        for box in self.boxes:
            # One box's complement needs no clean-up: its pieces each leave the box through
            # a different feature (or on either side of one interval), so none contains or
            # merges with another.
            pieces = Region(tuple(_box_complement(box, self.domains)), self.schema, self.domains)
            result = pieces if result.is_everything_form() else result.intersect(pieces)
            if result.is_empty():
                break
        return result

    def contains(self, other: Region) -> bool:
        """Whether every point of ``other`` lies in this region (exact)."""
        if other.is_empty() or any(not box.constraints for box in self.boxes):
            return True
        if all(
            any(_box_contains(mine, theirs, self.domains) for mine in self.boxes)
            for theirs in other.boxes
        ):
            return True  # the cheap sufficient test; the exact one follows
        covered = _covered_by(other.boxes, self.boxes, self.domains)
        if covered is not None:
            return covered
        return other.intersect(self.complement()).is_empty()

    def equivalent(self, other: Region) -> bool:
        """Whether both regions hold exactly the same points."""
        return self.contains(other) and other.contains(self)

    # --- reading -------------------------------------------------------------------------

    def contains_table(self, table: Table) -> np.ndarray:
        """Boolean array: which rows of ``table`` lie in the region (vectorised)."""
        result = np.zeros(table.n_rows, dtype=bool)
        for box in self.boxes:
            mask = np.ones(table.n_rows, dtype=bool)
            for name, constraint in box.constraints.items():
                if isinstance(constraint, TextConstraint):
                    mask &= text_constraint_mask(table, name, constraint)
                else:
                    column = table.column(name)
                    mask &= constraint_mask(self.schema.feature(name), constraint, column)
            result |= mask
        return result

    def witness(self) -> dict[str, Any] | None:
        """A point inside the region (feature name → value), or None when it is empty — or,
        with a text feature, when no text was found for any box (see ``text_witness``)."""
        from mola.engine.language.region_text import box_witness

        for box in self.boxes:
            point = box_witness(box, self.schema, self.domains)
            if point is not None:
                return point
        return None

    def describe(self) -> str:
        """The region in words a coach reads, e.g. ``toss_height_cm is 60-75 and serve_type
        is jump; or fatigued is true``."""
        from mola.engine.language.region_text import describe_region

        return describe_region(self)


def schema_domains(schema: Schema) -> dict[str, Constraint]:
    """Each feature's whole domain: its number range, its choices, or both truth values."""
    return {feature.name: feature_domain(feature) for feature in schema.features}


def feature_domain(feature: Feature) -> Constraint:
    if feature.kind == "number":
        low = -INF if feature.min is None else feature.min
        high = INF if feature.max is None else feature.max
        return Interval(low, high, feature.min is not None, feature.max is not None)
    if feature.kind == "category":
        return frozenset(feature.choices)
    if feature.kind == "text":
        return text_domain(feature.max_length)
    return frozenset({False, True})


def text_constraint_mask(table: Table, name: str, constraint: TextConstraint) -> np.ndarray:
    """Which texts of column ``name`` satisfy ``constraint`` (the evaluator's own tests)."""
    from mola.engine.language.evaluator import text_mask

    mask = np.ones(table.n_rows, dtype=bool)
    for atom in constraint.required:
        mask &= text_mask(table, name, atom)
    for atom in constraint.forbidden:
        mask &= ~text_mask(table, name, atom)
    if constraint.words != ANY_COUNT:
        mask &= constraint.words.mask(table.measure(name, "words"))
    if constraint.length != ANY_COUNT:
        mask &= constraint.length.mask(table.measure(name, "length"))
    return mask


def constraint_mask(
    feature: Feature | None, constraint: Constraint, column: np.ndarray
) -> np.ndarray:
    """Which values of ``column`` satisfy ``constraint`` (column typed as in ``Table``)."""
    if isinstance(constraint, Interval):
        return constraint.mask(column)
    if isinstance(constraint, TextConstraint):
        raise TypeError(
            "A text constraint is tested with text_constraint_mask (it needs the table)."
        )
    if feature is not None and feature.kind == "category":
        codes = [i for i, choice in enumerate(feature.choices) if choice in constraint]
        return np.isin(column, np.array(codes, dtype=column.dtype))
    if constraint == frozenset({True}):
        return column.astype(bool, copy=True)
    if constraint == frozenset({False}):
        return ~column.astype(bool)
    return np.full(column.shape, bool(constraint))


# --- boxes -------------------------------------------------------------------------------


def _too_complex() -> ConditionError:
    return ConditionError(
        "too_complex",
        f"This condition splits into more than {MAX_BOXES} separate cases; simplify it.",
    )


def _is_empty(constraint: Constraint) -> bool:
    if isinstance(constraint, Interval | TextConstraint):
        return constraint.is_empty()
    return not constraint


def _meet(a: Constraint, b: Constraint) -> Constraint:
    if isinstance(a, Interval):
        return a.intersect(b)  # type: ignore[arg-type]
    return a & b  # type: ignore[operator]


def _covers(a: Constraint, b: Constraint) -> bool:
    """Whether constraint ``a`` holds every value of ``b``."""
    if isinstance(a, Interval):
        # Inlined Interval.contains (boxes never hold empty constraints): the hot path.
        return a.first <= b.first and b.last <= a.last  # type: ignore[union-attr]
    return a >= b  # type: ignore[operator]


def _normalised_box(constraints: Mapping[str, Constraint], domains: Domains) -> Box | None:
    kept: dict[str, Constraint] = {}
    for name, constraint in constraints.items():
        domain = domains[name]
        clipped = _meet(constraint, domain)
        if _is_empty(clipped):
            return None
        if not _covers(clipped, domain):
            kept[name] = clipped
    return Box(kept)


def _intersect_boxes(a: Box, b: Box) -> Box | None:
    merged = dict(a.constraints)
    for name, constraint in b.constraints.items():
        if name in merged:
            constraint = _meet(merged[name], constraint)
            if _is_empty(constraint):
                return None
        merged[name] = constraint
    return Box(merged)


def _box_contains(outer: Box, inner: Box, domains: Domains) -> bool:
    # No kept constraint covers its whole domain, so ``outer`` can only contain ``inner``
    # when ``inner`` constrains every feature ``outer`` does: a cheap, exact first test.
    if not outer.constraints.keys() <= inner.constraints.keys():
        return False
    return all(
        _covers(constraint, inner.constraints.get(name, domains[name]))
        for name, constraint in outer.constraints.items()
    )


def _box_complement(box: Box, domains: Domains) -> list[Box]:
    """Boxes whose union is the domain minus ``box`` (one per way of leaving it)."""
    pieces: list[Box] = []
    for name, constraint in box.constraints.items():
        domain = domains[name]
        if isinstance(constraint, Interval | TextConstraint):
            pieces.extend(Box({name: part}) for part in constraint.complement_within(domain))  # type: ignore[arg-type]
        else:
            rest = domain - constraint  # type: ignore[operator]
            if rest:
                pieces.append(Box({name: rest}))
    return pieces


def _projection_misses(boxes: tuple[Box, ...], domains: Domains) -> bool:
    """Whether some feature constrained by every box has a value of its domain no box
    allows (judged by the ends for numbers): then the union is not everything. A cheap
    sufficient test; False says nothing."""
    for name in boxes[0].constraints:
        parts = [box.constraints.get(name) for box in boxes]
        if any(part is None for part in parts):
            continue
        domain = domains[name]
        if isinstance(domain, TextConstraint):
            continue  # no cheap test for texts
        if isinstance(domain, Interval):
            # The domain's smallest and largest values (infinities are no values).
            lowest = domain.first if domain.first != -INF else -sys.float_info.max
            highest = domain.last if domain.last != INF else sys.float_info.max
            if min(p.first for p in parts) > lowest:  # type: ignore[union-attr]
                return True
            if max(p.last for p in parts) < highest:  # type: ignore[union-attr]
                return True
        elif frozenset().union(*parts) != domain:  # type: ignore[arg-type]
            return True
    return False


_PIECES_LIMIT = 4 * MAX_BOXES


def _covered_by(inner: tuple[Box, ...], outer: tuple[Box, ...], domains: Domains) -> bool | None:
    """Whether the union of ``outer`` holds every point of every box of ``inner``, by
    cutting each inner box with the outer boxes until nothing (or something) is left:
    the pieces stay inside the inner box, so this is far cheaper than a complement of the
    whole space. None when the pieces grow past a limit (the caller takes the long way)."""
    for box in inner:
        pieces: list[dict[str, Constraint]] = [dict(box.constraints)]
        for cutter in outer:
            pieces = [rest for piece in pieces for rest in _cut(piece, cutter, domains)]
            if not pieces:
                break
            if len(pieces) > _PIECES_LIMIT:
                return None
        if pieces:
            return False
    return True


def _cut(
    piece: dict[str, Constraint], cutter: Box, domains: Domains
) -> list[dict[str, Constraint]]:
    """``piece`` minus ``cutter`` as disjoint non-empty pieces (constraints by name)."""
    for name, constraint in cutter.constraints.items():
        mine = piece.get(name)
        if mine is not None and _is_empty(_meet(mine, constraint)):
            return [piece]  # they do not meet
    rests: list[dict[str, Constraint]] = []
    current = dict(piece)
    for name, constraint in cutter.constraints.items():
        domain = domains[name]
        mine = current.get(name, domain)
        if isinstance(constraint, Interval | TextConstraint):
            outside = [
                part & mine if isinstance(part, TextConstraint) else part.intersect(mine)  # type: ignore[arg-type, operator]
                for part in constraint.complement_within(domain)  # type: ignore[arg-type]
            ]
            rests.extend({**current, name: part} for part in outside if not part.is_empty())
        else:
            rest = mine - constraint  # type: ignore[operator]
            if rest:
                rests.append({**current, name: rest})
        current[name] = _meet(mine, constraint)
    return rests


def _merged_boxes(a: Box, b: Box) -> Box | None:
    """The union of ``a`` and ``b`` as one box when they differ in one feature, else None."""
    if a.constraints.keys() != b.constraints.keys():
        return None
    differing = [name for name, c in a.constraints.items() if b.constraints[name] != c]
    if len(differing) != 1:
        return None
    name = differing[0]
    first, second = a.constraints[name], b.constraints[name]
    if isinstance(first, Interval):
        joined = first.merge(second)  # type: ignore[arg-type]
        if joined is None:
            return None
    elif isinstance(first, TextConstraint):
        return None  # a union of two text constraints is rarely one constraint: keep both
    else:
        joined = first | second  # type: ignore[operator]
    return Box({**a.constraints, name: joined})


def _simplified(boxes: list[Box], domains: Domains) -> tuple[Box, ...]:
    """Drop duplicate and contained boxes and merge neighbours; raise past MAX_BOXES."""
    boxes = list(dict.fromkeys(boxes))
    if any(not box.constraints for box in boxes):
        return (Box({}),)
    if len(boxes) <= _SUBSUME_LIMIT:
        boxes = _without_contained(boxes, domains)
    if len(boxes) <= _MERGE_LIMIT and _merge_pass(boxes, domains):
        boxes = _without_contained(boxes, domains)
    if len(boxes) > MAX_BOXES:
        raise _too_complex()
    return tuple(boxes)


def _without_contained(boxes: list[Box], domains: Domains) -> list[Box]:
    # Sequential, so of two boxes holding the same points (written differently) one stays.
    kept: list[Box] = []
    for box in boxes:
        if any(_box_contains(other, box, domains) for other in kept):
            continue
        kept = [other for other in kept if not _box_contains(box, other, domains)]
        kept.append(box)
    return kept


def _merge_pass(boxes: list[Box], domains: Domains) -> bool:
    """Merge pairs of boxes in place until none merge; whether anything merged."""
    changed, merged_any = True, False
    while changed:
        changed = False
        i = 0
        while i < len(boxes):
            j = i + 1
            while j < len(boxes):
                joined = _merged_boxes(boxes[i], boxes[j])
                if joined is None:
                    j += 1
                    continue
                boxes[i] = _normalised_box(joined.constraints, domains) or joined
                del boxes[j]
                changed = merged_any = True
                j = i + 1  # the grown box may now merge with ones already passed
            i += 1
    return merged_any
