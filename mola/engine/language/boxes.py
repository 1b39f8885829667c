"""Boxes, the pieces every region is a union of, and the algebra regions are built on:
meets, containment, complements, and the clean-ups that keep a union small (dropping boxes
another contains, merging neighbours) under the ``MAX_BOXES`` cap.

A box constrains some features (an interval for a number, a set of choices for a category,
a set of truth values for a boolean, a ``TextConstraint`` for a text) and leaves the others
free over their whole domain. ``regions.Region`` is the public face; this module owns the
box-level work behind it.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Union

from mola.engine.language.errors import ConditionError
from mola.engine.language.intervals import INF, Interval
from mola.engine.language.text_region import TextConstraint

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


def too_complex() -> ConditionError:
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


def normalised_box(constraints: Mapping[str, Constraint], domains: Domains) -> Box | None:
    kept: dict[str, Constraint] = {}
    for name, constraint in constraints.items():
        domain = domains[name]
        clipped = _meet(constraint, domain)
        if _is_empty(clipped):
            return None
        if not _covers(clipped, domain):
            kept[name] = clipped
    return Box(kept)


def intersect_boxes(a: Box, b: Box) -> Box | None:
    merged = dict(a.constraints)
    for name, constraint in b.constraints.items():
        if name in merged:
            constraint = _meet(merged[name], constraint)
            if _is_empty(constraint):
                return None
        merged[name] = constraint
    return Box(merged)


def box_contains(outer: Box, inner: Box, domains: Domains) -> bool:
    # No kept constraint covers its whole domain, so ``outer`` can only contain ``inner``
    # when ``inner`` constrains every feature ``outer`` does: a cheap, exact first test.
    if not outer.constraints.keys() <= inner.constraints.keys():
        return False
    return all(
        _covers(constraint, inner.constraints.get(name, domains[name]))
        for name, constraint in outer.constraints.items()
    )


def box_complement(box: Box, domains: Domains) -> list[Box]:
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


def projection_misses(boxes: tuple[Box, ...], domains: Domains) -> bool:
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


def covered_by(inner: tuple[Box, ...], outer: tuple[Box, ...], domains: Domains) -> bool | None:
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


def simplified(boxes: list[Box], domains: Domains) -> tuple[Box, ...]:
    """Drop duplicate and contained boxes and merge neighbours; raise past MAX_BOXES."""
    boxes = list(dict.fromkeys(boxes))
    if any(not box.constraints for box in boxes):
        return (Box({}),)
    if len(boxes) <= _SUBSUME_LIMIT:
        boxes = _without_contained(boxes, domains)
    if len(boxes) <= _MERGE_LIMIT and _merge_pass(boxes, domains):
        boxes = _without_contained(boxes, domains)
    if len(boxes) > MAX_BOXES:
        raise too_complex()
    return tuple(boxes)


def _without_contained(boxes: list[Box], domains: Domains) -> list[Box]:
    # Sequential, so of two boxes holding the same points (written differently) one stays.
    kept: list[Box] = []
    for box in boxes:
        if any(box_contains(other, box, domains) for other in kept):
            continue
        kept = [other for other in kept if not box_contains(box, other, domains)]
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
                boxes[i] = normalised_box(joined.constraints, domains) or joined
                del boxes[j]
                changed = merged_any = True
                j = i + 1  # the grown box may now merge with ones already passed
            i += 1
    return merged_any
