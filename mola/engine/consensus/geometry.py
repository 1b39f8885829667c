"""Exact region questions the index asks often, answered cheaply where the shape allows.

``Region.contains`` is exact but builds a complement (hundreds of microseconds); most rules
are a single box, where containment is a per-feature comparison, and for the rest a hull
test rejects most pairs before the exact check.
"""

from __future__ import annotations

from typing import Any

from mola.engine.language import Box, Interval, Region
from mola.engine.language.intervals import _tighter_high, _tighter_low
from mola.engine.language.region_text import (
    BOX_SEPARATOR,
    _describe_constraint,
    _with_holes,
    box_witness,
    describe_box,
)
from mola.engine.language.text_region import TextConstraint
from mola.engine.language.text_witness import text_witness
from mola.engine.schema import Feature, Schema

# Per constrained feature, the projection's ends (numbers) or values (sets); features whose
# projection is the whole domain are left out.
Hull = dict[str, tuple[float, float] | frozenset[Any]]
# A one-box region read once: per constrained feature, (schema position, name, constraint,
# words, picked value).
Part = tuple[int, str, Any, str, Any]
Parts = dict[str, Part]


def single_box(region: Region) -> Box | None:
    return region.boxes[0] if len(region.boxes) == 1 else None


def hull(region: Region) -> Hull:
    """The region's projection on each feature, summarised by a set invariant: two regions
    holding the same points have the same hull, however their boxes are written."""
    result: Hull = {}
    if region.is_empty():
        return result
    for name, domain in region.domains.items():
        if isinstance(domain, TextConstraint):
            continue  # no set invariant for texts: a coarser hull is still a necessary test
        parts = [box.constraints.get(name, domain) for box in region.boxes]
        if isinstance(domain, Interval):
            ends = (min(p.first for p in parts), max(p.last for p in parts))  # type: ignore[union-attr]
            if ends != (domain.first, domain.last):
                result[name] = ends
        else:
            values = frozenset().union(*parts)  # type: ignore[arg-type]
            if values != domain:
                result[name] = values
    return result


def hull_within(inner: Hull, outer: Hull) -> bool:
    """A necessary condition for ``inner``'s region to lie inside ``outer``'s."""
    for name, bound in outer.items():
        mine = inner.get(name)
        if mine is None:
            return False
        if isinstance(bound, tuple):
            if mine[0] < bound[0] or mine[1] > bound[1]:  # type: ignore[index]
                return False
        elif not mine <= bound:  # type: ignore[operator]
            return False
    return True


def within(inner: Region, outer: Region, inner_hull: Hull, outer_hull: Hull) -> bool:
    """Whether every point of ``inner`` lies in ``outer`` (exact)."""
    a, b = single_box(inner), single_box(outer)
    if a is not None and b is not None:
        # Regions never keep a constraint equal to the whole domain, so a feature ``outer``
        # constrains and ``inner`` leaves free cannot fit.
        return all(
            name in a.constraints and _covers(constraint, a.constraints[name])
            for name, constraint in b.constraints.items()
        )
    if not hull_within(inner_hull, outer_hull):
        return False
    return outer.contains(inner)


def overlap(a: Region, b: Region) -> Region:
    """``a.intersect(b)``, skipping the union clean-up when both are one box (the result is
    then one box already, identical to what ``intersect`` returns)."""
    first, second = single_box(a), single_box(b)
    if first is None or second is None:
        return a.intersect(b)
    merged = dict(first.constraints)
    for name, constraint in second.constraints.items():
        merged[name] = _meet(merged[name], constraint) if name in merged else constraint
    return Region((Box(merged),), a.schema, a.domains)


class RegionReader:
    """``describe()`` and ``witness()`` of the regions of one schema, as the language gives
    them, for thousands of overlaps at a time.

    An overlap constrains two or three of twenty features, and the same constraints recur
    (a skill, a drill, a rule's own interval), so the words and the picked value of each
    constraint are cached, and the free features' values are picked once.
    """

    def __init__(self, schema: Schema, domains: Any) -> None:
        self.schema = schema
        self.domains = domains
        self.free = box_witness(Box({}), schema, domains) or {}
        self.features = {feature.name: feature for feature in schema.features}
        self._order = [feature.name for feature in schema.features]
        self._position = {name: i for i, name in enumerate(self._order)}
        self._words: dict[tuple[str, Any], str] = {}
        self._picks: dict[tuple[str, Any], Any] = {}
        self._meets: dict[tuple[Any, ...], Part] = {}
        self._point_words: dict[tuple[str, Any], str | None] = {}

    def parts(self, region: Region) -> Parts | None:
        """A one-box region's constraints with their words and picks (None for several
        boxes or none)."""
        box = single_box(region)
        if box is None:
            return None
        return {name: self._part(name, c) for name, c in box.constraints.items()}

    def pair(self, a: Parts, b: Parts) -> tuple[str, dict[str, Any], bool, bool]:
        """For two one-box regions that meet: the words and witness of their overlap, as
        ``words(overlap(a, b))`` and ``witness(overlap(a, b))`` give them, and whether a lies
        within b and b within a (``within``), without building the overlap."""
        merged = dict(a)
        shared = 0
        a_in_b = b_in_a = True
        for name, mine in b.items():
            theirs = a.get(name)
            if theirs is None:
                merged[name] = mine
                continue
            shared += 1
            ca, cb = theirs[2], mine[2]
            if isinstance(ca, Interval):
                b_covers = cb.first <= ca.first and ca.last <= cb.last
                a_covers = ca.first <= cb.first and cb.last <= ca.last
                low = ca if _tighter_low(ca, cb) else cb
                high = ca if _tighter_high(ca, cb) else cb
                if low is high:  # the meet is that interval, field for field
                    merged[name] = theirs if low is ca else mine
                else:
                    key = (name, low.low, high.high, low.low_closed, high.high_closed)
                    part = self._meets.get(key)
                    if part is None:
                        meet = Interval.between_ends(low, high)
                        part = self._meets[key] = self._part(name, meet)
                    merged[name] = part
            else:
                b_covers, a_covers = cb >= ca, ca >= cb
                if b_covers:
                    merged[name] = theirs
                elif a_covers:
                    merged[name] = mine
                else:
                    merged[name] = self._part(name, ca & cb)
            a_in_b = a_in_b and b_covers
            b_in_a = b_in_a and a_covers
        a_in_b = a_in_b and shared == len(b)
        b_in_a = b_in_a and shared == len(a)
        point = dict(self.free)
        for part in merged.values():
            point[part[1]] = part[4]
        if not merged:
            return "every case", point, a_in_b, b_in_a
        words = " and ".join(part[3] for part in sorted(merged.values()))
        return words, point, a_in_b, b_in_a

    def _part(self, name: str, constraint: Any) -> Part:
        key = (name, constraint)
        if key not in self._picks:
            self._picks[key] = _pick(self.features[name], constraint)
        return (
            self._position[name],
            name,
            constraint,
            self._constraint_words(name, constraint),
            self._picks[key],
        )

    def words(self, region: Region) -> str:
        """``region.describe()``, as ``describe_region`` writes it, with each constraint's
        words cached: its constraints' words in schema order joined by "and", per box."""
        if not region.boxes:
            return "no case"
        if region.is_everything():  # a hull test first: a complement only when it must
            return "every case"
        if len(region.boxes) == 1:
            return self._box_words(region.boxes[0])
        return BOX_SEPARATOR.join(
            describe_box(box, self.schema, self.domains, holes) if holes else self._box_words(box)
            for box, holes in _with_holes(list(region.boxes))
        )

    def witness(self, region: Region) -> dict[str, Any]:
        """``region.witness()`` (``{}`` for an empty region): the first box's case."""
        if not region.boxes:
            return {}
        point = dict(self.free)  # schema order, as box_witness gives it
        for name, constraint in region.boxes[0].constraints.items():
            key = (name, constraint)
            if key not in self._picks:
                self._picks[key] = _pick(self.features[name], constraint)
            point[name] = self._picks[key]
        return point

    def _box_words(self, box: Box) -> str:
        constraints = box.constraints
        return " and ".join(
            self._constraint_words(name, constraints[name])
            for name in self._order
            if name in constraints
        )

    def point_words(self, point: dict[str, Any]) -> str:
        """``words(point_region(schema, point, domains))``, a feature's value read once."""
        parts = []
        for name in self._order:
            key = (name, point[name])
            words = self._point_words.get(key, _UNSEEN)
            if words is _UNSEEN:
                feature = self.features[name]
                value = point[name]
                if feature.kind == "text":
                    self._point_words[key] = words = quoted_text(name, value)
                    parts.append(words)
                    continue
                constraint = (
                    Interval.point(value) if feature.kind == "number" else frozenset({value})
                )
                one = Region.where(self.schema, {name: constraint}, self.domains)
                if not one.boxes:
                    words = None  # outside the domain: the point's region is empty
                elif one.boxes[0].constraints:
                    words = self._constraint_words(name, one.boxes[0].constraints[name])
                else:
                    words = ""  # the feature's whole domain: left out
                self._point_words[key] = words
            if words is None:
                return "no case"
            if words:
                parts.append(words)
        return " and ".join(parts) if parts else "every case"

    def _constraint_words(self, name: str, constraint: Any) -> str:
        key = (name, constraint)
        words = self._words.get(key)
        if words is None:  # describe_box of the one constraint
            words = self._words[key] = _describe_constraint(
                self.features[name], constraint, self.domains[name]
            )
        return words


_UNSEEN = object()


def quoted_text(name: str, value: Any, limit: int = 80) -> str:
    """``comment is "check out my…"``: a text value in the words of an overlap."""
    text = " ".join(str(value).split())
    shown = text if len(text) <= limit else text[: limit - 1] + "\u2026"
    return f'{name} is "{shown}"'


def _pick(feature: Feature, constraint: Any) -> Any:
    """The value box_witness picks: an interval's sample, False when allowed, a built and
    checked text (None when none was found), else the first allowed choice in schema
    order."""
    if isinstance(constraint, TextConstraint):
        return text_witness(constraint)
    if isinstance(constraint, Interval):
        return constraint.sample()
    if feature.kind == "boolean":
        return False not in constraint
    return next(choice for choice in feature.choices if choice in constraint)


def point_region(schema: Schema, point: dict[str, Any], domains: Any) -> Region:
    """The one-point region of a valid row."""
    constraints = {
        f.name: Interval.point(point[f.name]) if f.kind == "number" else frozenset({point[f.name]})
        for f in schema.features
    }
    return Region.where(schema, constraints, domains)


def span_region(schema: Schema, points: list[dict[str, Any]], domains: Any) -> Region:
    """The smallest box holding several valid rows (their values must agree off numbers)."""
    constraints = {
        f.name: Interval(min(p[f.name] for p in points), max(p[f.name] for p in points), True, True)
        if f.kind == "number"
        else frozenset({points[0][f.name]})
        for f in schema.features
        if f.kind != "text"  # a text is no box: ``quoted_text`` says it
    }
    return Region.where(schema, constraints, domains)


def _meet(a: Any, b: Any) -> Any:
    return a.intersect(b) if isinstance(a, Interval) else a & b


def _covers(a: Any, b: Any) -> bool:
    return a.contains(b) if isinstance(a, Interval) else a >= b
