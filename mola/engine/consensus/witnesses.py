"""Witnesses of overlaps on spaces with text features: built, then checked.

Numbers, choices and booleans give a witness by construction. A text witness is built from
the rules' phrases and patterns (``text_witness``) and may not exist or not be found, so
here every witness of a text space is checked against both regions with the language's own
tests before it is shown; when none passes, the overlap is reported as possible, with no
witness — never dropped, never shown with a case that does not satisfy both rules.
"""

from __future__ import annotations

from typing import Any

from mola.engine.consensus.geometry import overlap
from mola.engine.language import Region
from mola.engine.language.region_text import box_witness
from mola.engine.schema import Schema
from mola.engine.table import table_from_rows

NO_WITNESS_NOTE = (
    "Possible overlap, no witness found: no text satisfying both rules was found within the "
    "search budget (a pattern MOLA cannot generate from, or words that exclude each other); "
    "read both conditions to decide."
)


def has_text(schema: Schema) -> bool:
    return any(feature.kind == "text" for feature in schema.features)


def holds_in_all(schema: Schema, point: dict[str, Any], *regions: Region) -> bool:
    """Whether ``point`` (a full row) lies in every region, by the evaluator's own tests."""
    if any(value is None for value in point.values()):
        return False
    table = table_from_rows(schema, [point])
    return all(bool(region.contains_table(table)[0]) for region in regions)


def checked_pair_witness(
    schema: Schema, a: Region, b: Region, first_try: dict[str, Any]
) -> dict[str, Any] | None:
    """A point in both ``a`` and ``b`` that passes the check: ``first_try`` when it does,
    else the first box of the overlap whose built witness does; None when none does."""
    if holds_in_all(schema, first_try, a, b):
        return first_try
    for box in overlap(a, b).boxes:
        point = box_witness(box, schema, a.domains)
        if point is not None and holds_in_all(schema, point, a, b):
            return point
    return None


def without_missing(point: dict[str, Any]) -> dict[str, Any]:
    """The values that were found (a text feature with no witness text is left out)."""
    return {name: value for name, value in point.items() if value is not None}
