"""Cases arrive as JSON, NDJSON or CSV; each becomes the same list of feature objects.

CSV cells are text, so a cell is typed by its feature's kind first (a number that parses, a
boolean spelled true/false/yes/no/1/0); a cell that does not convert is passed on as it is,
and the one validation every case goes through (``rows_table``) names it. An empty cell is
a missing value.
"""

from __future__ import annotations

import csv
import io
from typing import Any

import orjson

from mola.api.parsers import value_checked
from mola.engine.schema import Schema
from mola.errors import InvalidInput

_TRUE = {"true", "yes", "1"}
_FALSE = {"false", "no", "0"}


def _typed(kind: str, text: str) -> Any:
    if kind == "number":
        try:
            number = float(text)
        except ValueError:
            return text
        return int(number) if number.is_integer() and "." not in text else number
    if kind == "boolean":
        lowered = text.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        return text
    return text


def rows_from_csv(data: bytes, schema: Schema) -> list[dict[str, Any]]:
    """Rows of a CSV file whose header names the schema's features (any order)."""
    text = _decoded(data)
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if not header:
        raise InvalidInput("The CSV file is empty.", code="empty", field="cases")
    header = [name.strip() for name in header]
    unknown = [name for name in header if schema.feature(name) is None]
    missing = [name for name in schema.feature_names if name not in header]
    if unknown or missing:
        problems = [
            {
                "field": "cases",
                "code": "unknown_feature",
                "message": f"Column {name!r} is not a feature of this space.",
            }
            for name in unknown
        ] + [
            {
                "field": "cases",
                "code": "missing_feature",
                "message": f"The header has no column {name!r}.",
            }
            for name in missing
        ]
        raise InvalidInput(problems=problems)
    kinds = [schema.feature(name).kind for name in header]
    value_checked(header, "cases")
    rows = []
    for cells in reader:
        if not any(cell.strip() for cell in cells):
            continue  # a blank line
        row = {
            name: _typed(kind, cell)
            for name, kind, cell in zip(header, kinds, cells, strict=False)
            if cell != ""
        }
        rows.append(value_checked(row, f"cases[{len(rows)}]"))
    return rows


def rows_from_ndjson(data: bytes) -> list[Any]:
    """One JSON object per line (blank lines skipped)."""
    rows = []
    for line in _decoded(data).splitlines():
        if not line.strip():
            continue
        field = f"cases[{len(rows)}]"
        try:
            rows.append(value_checked(orjson.loads(line), field))
        except orjson.JSONDecodeError as error:
            if "depth limit" in str(error):
                raise InvalidInput(
                    "A case is nested too deep.", code="too_deep", field=field
                ) from None
            raise InvalidInput(
                f"Case {len(rows)} is not valid JSON.", code="parse_error", field=field
            ) from None
    return rows


def _decoded(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput("The file is not UTF-8 text.", code="parse_error") from None
