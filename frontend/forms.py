"""Reading the pages' forms, and putting domain errors back next to their fields.

The services validate everything; these helpers only turn form strings into the Python
values the services take (a number feature's "42" into 42.0) and group the services'
problems ``{field, code, message, position?, suggestion?}`` by field for the templates.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from mola.engine.schema import Feature, Schema

GENERAL = "__all__"  # problems that name no field, shown at the top of a form


def problems_by_field(problems: Iterable[Mapping[str, Any]], prefix: str = "") -> dict:
    """``{field: [problem, ...]}``; fields outside ``prefix`` are dropped, the prefix cut."""
    grouped: dict[str, list[Mapping[str, Any]]] = {}
    for problem in problems:
        name = problem.get("field") or GENERAL
        if prefix:
            if name != prefix and not name.startswith(prefix + "."):
                continue
            name = name[len(prefix) + 1 :] or GENERAL
        grouped.setdefault(name, []).append(problem)
    return grouped


def unplaced(grouped: Mapping[str, list], placed: Iterable[str]) -> list:
    """Problems whose field no input on the page shows: listed at the top of the form."""
    known = set(placed)
    return [p for name, items in grouped.items() if name not in known for p in items]


@dataclass
class FeatureField:
    """One input of a feature row, ready for ``_feature_inputs.html``."""

    feature: Feature
    input_name: str
    input_id: str
    value: Any = None
    problems: list = field(default_factory=list)

    @property
    def checked(self) -> bool:
        return self.value is True

    @property
    def step(self) -> str:
        return "any"


def feature_fields(
    schema: Schema,
    *,
    prefix: str,
    values: Mapping[str, Any] | None = None,
    problems: Mapping[str, list] | None = None,
) -> list[FeatureField]:
    values = values or {}
    problems = problems or {}
    return [
        FeatureField(
            feature=f,
            input_name=f"{prefix}{f.name}",
            input_id=f"id_{prefix}{f.name}",
            value=values.get(f.name),
            problems=problems.get(f"features.{f.name}", []) + problems.get(f.name, []),
        )
        for f in schema.features
    ]


def parse_number(text: str) -> float | int | str:
    """A number from a form; text that is not one is passed on for the service to refuse."""
    try:
        number = float(text)
    except ValueError:
        return text
    return (
        int(number)
        if number.is_integer() and "." not in text and "e" not in text.lower()
        else number
    )


def parse_row(schema: Schema, data: Mapping[str, str], *, prefix: str) -> dict[str, Any]:
    """The feature values of one row of a form. An empty number input is left out, so the
    service reports it as missing; an unticked checkbox is ``False``."""
    row: dict[str, Any] = {}
    for f in schema.features:
        raw = data.get(f"{prefix}{f.name}")
        if f.kind == "boolean":
            row[f.name] = raw in ("on", "true", "1")
        elif f.kind == "text" and raw is not None:
            row[f.name] = raw  # as typed: an empty text is a text
        elif raw not in (None, ""):
            row[f.name] = parse_number(raw.strip()) if f.kind == "number" else raw
    return row


def row_values(schema: Schema, data: Mapping[str, str], *, prefix: str) -> dict[str, Any]:
    """What the user typed, to fill the inputs again after an error."""
    values: dict[str, Any] = {}
    for f in schema.features:
        raw = data.get(f"{prefix}{f.name}")
        values[f.name] = (raw in ("on", "true", "1")) if f.kind == "boolean" else raw
    return values


def default_row(schema: Schema) -> dict[str, Any]:
    """A valid starting point for the playground: the middle of each number's range."""
    row: dict[str, Any] = {}
    for f in schema.features:
        if f.kind == "number":
            low = f.min if f.min is not None else 0
            high = f.max if f.max is not None else low + 100
            middle = (low + high) / 2
            row[f.name] = int(middle) if float(middle).is_integer() else round(middle, 2)
        elif f.kind == "category":
            row[f.name] = f.choices[0] if f.choices else ""
        elif f.kind == "text":
            row[f.name] = ""
        else:
            row[f.name] = False
    return row
