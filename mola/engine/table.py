"""Rows of feature values as numpy columns, and the checks a row must pass first.

A ``Table`` is what the condition evaluator and the learners read: one column per schema
feature, typed so that comparisons run vectorised (no per-row Python).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

import numpy as np

from mola.engine.schema import Feature, Schema
from mola.engine.text import fold, normalise, text_value_problem, word_count


@dataclass(frozen=True)
class Table:
    """Columns keyed by feature name, all of length ``n_rows``.

    number → float64; category → int32 codes indexing ``feature.choices`` (-1 for a value that
    is not a choice); boolean → bool; text → object array of ``normalise``d str (the form every
    reader matches; the text as written stays with the caller, for display).
    """

    columns: dict[str, np.ndarray]
    n_rows: int
    # What is read off text columns (folded forms, word counts), worked out once per table.
    derived: dict[tuple[str, str], np.ndarray] = field(
        default_factory=dict, repr=False, compare=False
    )

    def folded(self, name: str) -> np.ndarray:
        """The text column ``name`` case-folded (computed once per table)."""
        key = (name, "folded")
        if key not in self.derived:
            column = self.column(name)
            self.derived[key] = _object_array([fold(text) for text in column])
        return self.derived[key]

    def measure(self, name: str, measure: str) -> np.ndarray:
        """``words`` or ``length`` of each text of column ``name``, as float64."""
        key = (name, measure)
        if key not in self.derived:
            count = word_count if measure == "words" else len
            column = self.column(name)
            self.derived[key] = np.fromiter(map(count, column), np.float64, count=len(column))
        return self.derived[key]

    def column(self, name: str) -> np.ndarray:
        """The column of feature ``name``; a ``ValueError`` names the missing feature."""
        try:
            return self.columns[name]
        except KeyError:
            raise ValueError(f"The table has no column {name!r}.") from None


@dataclass(frozen=True)
class FieldError:
    """One problem with one field of a row; ``code`` is stable, ``message`` is for people."""

    field: str
    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "code": self.code, "message": self.message}


def table_from_rows(schema: Schema, rows: Sequence[Mapping[str, Any]]) -> Table:
    """Build a table from rows already accepted by ``validate_row``.

    A missing value becomes NaN / -1 / False so that a half-valid row never crashes here;
    callers that care validate first.
    """
    columns = {f.name: _column(f, [row.get(f.name) for row in rows]) for f in schema.features}
    return Table(columns=columns, n_rows=len(rows))


def _column(feature: Feature, values: list[Any]) -> np.ndarray:
    if feature.kind == "number":
        return np.array([_as_float(v) for v in values], dtype=np.float64)
    if feature.kind == "category":
        codes = {choice: index for index, choice in enumerate(feature.choices)}
        return np.array([codes.get(v, -1) if isinstance(v, str) else -1 for v in values], np.int32)
    if feature.kind == "text":
        return _object_array([normalise(v) if isinstance(v, str) else "" for v in values])
    return np.array([v is True for v in values], dtype=bool)


def _object_array(texts: list[str]) -> np.ndarray:
    array = np.empty(len(texts), dtype=object)
    array[:] = texts
    return array


def _as_float(value: Any) -> float:
    if not _is_number(value):
        return math.nan
    try:
        return float(value)
    except OverflowError:  # a huge int, refused by validate_row
        return math.nan


def _is_number(value: Any) -> bool:
    # bool is a subclass of int in Python, but True is not a measurement.
    return isinstance(value, int | float) and not isinstance(value, bool)


def checked_table(schema: Schema, rows: Sequence[Any]) -> tuple[Table, list[int]]:
    """The table of ``rows`` and, in order, the indexes of the rows ``validate_row`` would
    refuse (anything but a mapping is refused too); their cells hold placeholders.

    Checks a column at a time: type sets, one numpy conversion and range comparison per
    column, so 10,000 valid rows cost no per-field Python. A column with a wrong value
    somewhere falls back to checking that column value by value. Callers ask
    ``validate_row`` for the messages of the (few) refused rows.
    """
    n = len(rows)
    names = {f.name for f in schema.features}
    values = _exact_columns(schema, rows)
    if values is not None:
        bad = np.zeros(n, dtype=bool)
    else:  # a row that is not a plain dict, or whose keys are not the features
        mappings = [row if isinstance(row, Mapping) else {} for row in rows]
        bad = np.fromiter(
            (not isinstance(row, Mapping) or row.keys() != names for row in rows), bool, count=n
        )
        values = [[row.get(f.name) for row in mappings] for f in schema.features]
    columns = {}
    for feature, given in zip(schema.features, values, strict=True):
        column, wrong = _checked_column(feature, given)
        columns[feature.name] = column
        bad |= wrong
    return Table(columns=columns, n_rows=n), np.flatnonzero(bad).tolist()


def _exact_columns(schema: Schema, rows: Sequence[Any]) -> list[list[Any]] | None:
    """Each feature's values, when every row is a dict with exactly the features as keys
    (what a client sends), else None. Checked and read in C (``map``): asking each row
    ``isinstance(row, Mapping)`` (an ABC) and comparing its keys took ~15 ms of the ~30 for
    10,000 rows of 20 features."""
    if not rows or set(map(type, rows)) != {dict}:
        return None
    if set(map(len, rows)) != {len(schema.features)}:
        return None
    try:  # every feature present and as many keys as features: the keys are the features
        return [list(map(itemgetter(f.name), rows)) for f in schema.features]
    except KeyError:
        return None


def _checked_column(feature: Feature, values: list[Any]) -> tuple[np.ndarray, np.ndarray]:
    """The typed column and which of its values ``_value_error`` refuses."""
    n = len(values)
    types = set(map(type, values))
    fine = np.zeros(n, dtype=bool)
    try:
        if feature.kind == "number" and types <= {float, int}:
            column = np.array(values, dtype=np.float64)  # OverflowError on a huge int
            wrong = ~np.isfinite(column)
            if feature.min is not None:
                wrong |= column < feature.min
            if feature.max is not None:
                wrong |= column > feature.max
            return column, wrong
        if feature.kind == "category" and types <= {str}:
            codes = {choice: index for index, choice in enumerate(feature.choices)}
            # KeyError on a text that is not a choice
            return np.fromiter(map(codes.__getitem__, values), np.int32, count=n), fine
        if feature.kind == "boolean" and types <= {bool}:
            return np.array(values, dtype=bool), fine
        if feature.kind == "text" and types <= {str}:
            limit = feature.max_length
            wrong = np.fromiter(
                (text_value_problem(v, limit) is not None for v in values), bool, count=n
            )
            return _column(feature, values), wrong
    except (OverflowError, KeyError):
        pass
    wrong = np.fromiter((_value_error(feature, v) is not None for v in values), bool, count=n)
    return _column(feature, values), wrong


def validate_row(schema: Schema, row: Mapping[str, Any]) -> list[FieldError]:
    """Everything wrong with one row of feature values (an empty list when valid).

    Every schema feature must be present; unknown keys are refused so that a typo in a
    feature name never silently drops a value.
    """
    errors = [
        FieldError(str(name), "unknown_feature", f"{name!r} is not a feature of this space.")
        for name in row
        if not isinstance(name, str) or schema.feature(name) is None
    ]
    for feature in schema.features:
        if feature.name not in row:
            errors.append(
                FieldError(
                    feature.name, "missing_feature", f"A value for {feature.name} is needed."
                )
            )
            continue
        error = _value_error(feature, row[feature.name])
        if error is not None:
            errors.append(error)
    return errors


def _value_error(feature: Feature, value: Any) -> FieldError | None:
    if feature.kind == "number":
        return _number_error(feature, value)
    if feature.kind == "category":
        if not isinstance(value, str):
            return FieldError(feature.name, "wrong_type", f"{feature.name} takes a text choice.")
        if value not in feature.choices:
            return FieldError(
                feature.name,
                "unknown_choice",
                f"{value!r} is not a choice of {feature.name} ({', '.join(feature.choices)}).",
            )
        return None
    if feature.kind == "text":
        problem = text_value_problem(value, feature.max_length)
        if problem is None:
            return None
        return FieldError(feature.name, problem[0], f"{feature.name} {problem[1]}")
    if not isinstance(value, bool):
        return FieldError(feature.name, "wrong_type", f"{feature.name} takes true or false.")
    return None


def _number_error(feature: Feature, value: Any) -> FieldError | None:
    if not _is_number(value):
        return FieldError(feature.name, "wrong_type", f"{feature.name} takes a number.")
    try:
        number = float(value)
    except OverflowError:  # a huge int
        number = math.inf
    if not math.isfinite(number):
        return FieldError(feature.name, "wrong_type", f"{feature.name} takes a finite number.")
    if feature.min is not None and number < feature.min:
        return FieldError(
            feature.name, "out_of_range", f"{feature.name} is at least {feature.min:g}."
        )
    if feature.max is not None and number > feature.max:
        return FieldError(
            feature.name, "out_of_range", f"{feature.name} is at most {feature.max:g}."
        )
    return None
