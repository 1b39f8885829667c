"""The limits every teaching's text obeys, checked by the services — so the API and the web
pages (which call the same services) refuse the same things.

The API's serializers said "at most 5,000 characters" for a rationale; the web form went
straight to the service and stored 2 MB. A NUL character is refused too: PostgreSQL cannot
store one in text (it answered 500), and neither can an unpaired surrogate.
"""

from __future__ import annotations

from typing import Any

from mola.api.parsers import INVALID_TEXT, text_is_clean
from mola.errors import InvalidInput

MAX_TEXT = 5000  # rationale, note, description
LIMITS = {
    "name": 64,
    "label": 64,
    "condition": 200_000,
    "definition": 200_000,
    "rationale": MAX_TEXT,
    "note": MAX_TEXT,
    "description": MAX_TEXT,
}


def texts_check(**fields: Any) -> None:
    """Refuse, naming each field, any of ``fields`` (by their names in ``LIMITS``; None
    means "not given") that is not text, is longer than its limit, or holds a NUL or an
    unpaired surrogate."""
    problems = []
    for field, value in fields.items():
        if value is None:
            continue
        problem = text_problem(value, LIMITS[field])
        if problem is not None:
            problems.append({"field": field, **problem})
    if problems:
        raise InvalidInput(problems=problems)


def text_problem(value: Any, limit: int) -> dict[str, str] | None:
    """``{code, message}`` of what is wrong with ``value`` as a text of ``limit``
    characters at most, or None."""
    if not isinstance(value, str):
        return {"code": "invalid", "message": "Not a valid string."}
    if len(value) > limit:
        return {
            "code": "max_length",
            "message": f"Ensure this field has no more than {limit} characters.",
        }
    if not text_is_clean(value):
        return {"code": "invalid_text", "message": INVALID_TEXT}
    return None
