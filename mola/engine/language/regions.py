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

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mola.engine.language.boxes import (
    MAX_BOXES,
    Box,
    Constraint,
    Domains,
    box_complement,
    box_contains,
    covered_by,
    intersect_boxes,
    normalised_box,
    projection_misses,
    simplified,
    too_complex,
)
from mola.engine.language.intervals import INF, Interval
from mola.engine.language.text_region import ANY_COUNT, TextConstraint, text_domain
from mola.engine.schema import Feature, Schema
from mola.engine.table import Table


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
        box = normalised_box(constraints, domains)
        return cls(() if box is None else (box,), schema, domains)

    def _with(self, boxes: Iterable[Box]) -> Region:
        boxes = list(boxes)
        if len(boxes) > 1:
            boxes = list(simplified(boxes, self.domains))
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
        if self.boxes and projection_misses(self.boxes, self.domains):
            return False  # a feature every box narrows, and together they miss a value
        return self.complement().is_empty()

    def union(self, other: Region) -> Region:
        return self._with([*self.boxes, *other.boxes])

    def intersect(self, other: Region) -> Region:
        pieces: list[Box] = []
        for a in self.boxes:
            for b in other.boxes:
                box = intersect_boxes(a, b)
                if box is not None:
                    pieces.append(box)
            if len(pieces) > 4 * MAX_BOXES:
                raise too_complex()
        return self._with(pieces)

    def complement(self) -> Region:
        """Everything in the schema's domain outside this region (exact)."""
        result = Region.everything(self.schema, self.domains)
        for box in self.boxes:
            # One box's complement needs no clean-up: its pieces each leave the box through
            # a different feature (or on either side of one interval), so none contains or
            # merges with another.
            pieces = Region(tuple(box_complement(box, self.domains)), self.schema, self.domains)
            result = pieces if result.is_everything_form() else result.intersect(pieces)
            if result.is_empty():
                break
        return result

    def contains(self, other: Region) -> bool:
        """Whether every point of ``other`` lies in this region (exact)."""
        if other.is_empty() or any(not box.constraints for box in self.boxes):
            return True
        if all(
            any(box_contains(mine, theirs, self.domains) for mine in self.boxes)
            for theirs in other.boxes
        ):
            return True  # the cheap sufficient test; the exact one follows
        covered = covered_by(other.boxes, self.boxes, self.domains)
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
