"""Regions read by people: a sentence a coach understands, and one concrete case inside."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mola.engine.language.intervals import Interval, format_number
from mola.engine.schema import Feature, Schema

if TYPE_CHECKING:
    from mola.engine.language.regions import Box, Constraint, Domains, Region

BOX_SEPARATOR = "; or "
EN_DASH = "\u2013"  # en dash: the typographic range a coach reads


def describe_region(region: Region) -> str:
    """``toss_height_cm is 60-75 (with an en dash) and serve_type is jump; or fatigued is true``."""
    if region.is_empty():
        return "no case"
    if region.is_everything():
        return "every case"
    return BOX_SEPARATOR.join(
        describe_box(box, region.schema, region.domains) for box in region.boxes
    )


def describe_box(box: Box, schema: Schema, domains: Domains) -> str:
    """The box's constraints in schema order, joined with "and"."""
    parts = [
        _describe_constraint(feature, box.constraints[feature.name], domains[feature.name])
        for feature in schema.features
        if feature.name in box.constraints
    ]
    return " and ".join(parts)


def _describe_constraint(feature: Feature, constraint: Constraint, domain: Constraint) -> str:
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


def box_witness(box: Box, schema: Schema, domains: Domains) -> dict[str, Any]:
    """One concrete case in ``box``: a value for every schema feature.

    Numbers: the middle of a bounded interval, one past an open end, the closed end itself
    (free features: the middle of min/max, else 0). Categories: the first allowed choice in
    schema order. Booleans: False when allowed.
    """
    return {
        feature.name: _pick(feature, box.constraints.get(feature.name, domains[feature.name]))
        for feature in schema.features
    }


def _pick(feature: Feature, constraint: Constraint) -> Any:
    if isinstance(constraint, Interval):
        return constraint.sample()
    if feature.kind == "boolean":
        return False not in constraint  # False when allowed
    return next(choice for choice in feature.choices if choice in constraint)
