"""Regions read by people: a sentence a coach understands, and one concrete case inside."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mola.engine.language.intervals import Interval, format_number
from mola.engine.language.regions import Box, Constraint, Domains, Region
from mola.engine.language.text_region import TextConstraint
from mola.engine.language.text_witness import text_witness
from mola.engine.schema import Feature, Schema

BOX_SEPARATOR = "; or "
EN_DASH = "\u2013"  # en dash: the typographic range a coach reads


def describe_region(region: Region) -> str:
    """``toss_height_cm is 60-75 (with an en dash) and serve_type is jump; or fatigued is true``."""
    if region.is_empty():
        return "no case"
    if region.is_everything():
        return "every case"
    return BOX_SEPARATOR.join(
        describe_box(box, region.schema, region.domains, holes)
        for box, holes in _with_holes(list(region.boxes))
    )


def describe_box(
    box: Box, schema: Schema, domains: Domains, holes: Mapping[str, Holes] | None = None
) -> str:
    """The box's constraints in schema order, joined with "and"; ``holes`` are single
    values a number feature must avoid ("elbow_angle is not 5")."""
    holes = holes or {}
    parts = []
    for feature in schema.features:
        if feature.name not in box.constraints:
            continue
        constraint, domain = box.constraints[feature.name], domains[feature.name]
        if feature.name not in holes:
            parts.append(_describe_constraint(feature, constraint, domain))
            continue
        unit = f" {feature.unit}" if feature.unit else ""
        points = ", ".join(format_number(v) for v in sorted(holes[feature.name])) + unit
        if constraint.contains(domain):  # type: ignore[union-attr]
            not_words = "not" if len(holes[feature.name]) == 1 else "none of"
            parts.append(f"{feature.name} is {not_words} {points}")
        else:
            parts.append(f"{_describe_constraint(feature, constraint, domain)} except {points}")
    return " and ".join(parts)


Holes = tuple[float, ...]
Described = tuple[Box, dict[str, Holes]]


def _with_holes(boxes: list[Box]) -> list[Described]:
    """Join the pieces ``!=`` and ``not in`` leave (x < 5; or x > 5) so they read as
    "x is not 5": two boxes equal but for one interval, meeting at a point both exclude."""
    described: list[Described] = [(box, {}) for box in boxes]
    fused_any = True
    while fused_any:
        fused_any = False
        for i in range(len(described)):
            for j in range(i + 1, len(described)):
                fused = _fuse_around_point(described[i], described[j])
                if fused is not None:
                    described[i] = fused
                    del described[j]
                    fused_any = True
                    break
            if fused_any:
                break
    return described


def _fuse_around_point(a: Described, b: Described) -> Described | None:
    (box_a, holes_a), (box_b, holes_b) = a, b
    if box_a.constraints.keys() != box_b.constraints.keys():
        return None
    differing = [n for n, c in box_a.constraints.items() if box_b.constraints[n] != c]
    if len(differing) != 1 or not set(holes_a) | set(holes_b) <= set(differing):
        return None
    name = differing[0]
    low, high = box_a.constraints[name], box_b.constraints[name]
    if not isinstance(low, Interval) or not isinstance(high, Interval):
        return None
    if low.low > high.low:
        low, high = high, low
    if low.high != high.low or low.high_closed or high.low_closed:
        return None
    joined = Interval(low.low, high.high, low.low_closed, high.high_closed)
    holes = (*holes_a.get(name, ()), *holes_b.get(name, ()), low.high)
    return Box({**box_a.constraints, name: joined}), {name: holes}


def _describe_constraint(feature: Feature, constraint: Constraint, domain: Constraint) -> str:
    if isinstance(constraint, TextConstraint):
        return constraint.describe(feature.name, domain)  # type: ignore[arg-type]
    if isinstance(constraint, Interval):
        return f"{feature.name} is {_describe_interval(constraint, domain, feature.unit)}"  # type: ignore[arg-type]
    if feature.kind == "boolean":
        return f"{feature.name} is {'true' if True in constraint else 'false'}"
    chosen = [choice for choice in feature.choices if choice in constraint]
    left_out = [choice for choice in feature.choices if choice not in constraint]
    if len(chosen) == 1:
        return f"{feature.name} is {chosen[0]}"
    if len(left_out) == 1:
        return f"{feature.name} is not {left_out[0]}"
    return f"{feature.name} is one of {', '.join(chosen)}"


def _describe_interval(interval: Interval, domain: Interval, unit: str) -> str:
    # An end that is only the schema's own min/max says nothing to the coach: leave it out.
    low = format_number(interval.low) if interval.first != domain.first else None
    high = format_number(interval.high) if interval.last != domain.last else None
    suffix = f" {unit}" if unit else ""
    if interval.is_point():
        return f"{format_number(interval.first)}{suffix}"
    if low is not None and high is not None:
        if interval.low_closed and interval.high_closed:
            return f"{low}{EN_DASH}{high}{suffix}"
        return f"{_low_words(interval, low, suffix)} and {_high_words(interval, high, suffix)}"
    if low is not None:
        return _low_words(interval, low, suffix)
    if high is not None:
        return _high_words(interval, high, suffix)
    return "any value"


def _low_words(interval: Interval, low: str, suffix: str) -> str:
    return f"{'at least' if interval.low_closed else 'above'} {low}{suffix}"


def _high_words(interval: Interval, high: str, suffix: str) -> str:
    return f"{'at most' if interval.high_closed else 'below'} {high}{suffix}"


def box_witness(box: Box, schema: Schema, domains: Domains) -> dict[str, Any] | None:
    """One concrete case in ``box``: a value for every schema feature, or None when no text
    was found for a text feature's constraint (see ``text_witness``).

    Numbers: the middle of a bounded interval, one past an open end, the closed end itself
    (free features: the middle of min/max, else 0). Categories: the first allowed choice in
    schema order. Booleans: False when allowed. Texts: built from the required phrases and
    patterns and checked.
    """
    point = {
        feature.name: _pick(feature, box.constraints.get(feature.name, domains[feature.name]))
        for feature in schema.features
    }
    return None if any(value is None for value in point.values()) else point


def _pick(feature: Feature, constraint: Constraint) -> Any:
    if isinstance(constraint, TextConstraint):
        return text_witness(constraint)
    if isinstance(constraint, Interval):
        return constraint.sample()
    if feature.kind == "boolean":
        return False not in constraint  # False when allowed
    return next(choice for choice in feature.choices if choice in constraint)
