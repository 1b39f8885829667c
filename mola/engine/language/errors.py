"""The one exception the condition language raises, and the limits it enforces."""

from __future__ import annotations

from typing import Any

# Limits keep a hostile or accidental input from costing more than a few milliseconds.
MAX_TEXT_LENGTH = 2000
MAX_DEPTH = 32  # nested parentheses / and-or-not levels
# Beyond 2**53 a float64 no longer holds every integer, and huge values would make
# midpoints and "+1" witnesses overflow; no coach measures anything that large.
MAX_NUMBER = 1e15


class ConditionError(Exception):
    """A condition text that cannot be compiled.

    ``code`` is stable for programs (``syntax_error``, ``unknown_name``, ``type_mismatch``,
    ``unknown_choice``, ``bad_operator``, ``not_a_predicate``, ``bad_comparison``,
    ``bad_number``, ``bad_string``, ``empty_range``, ``too_long``, ``too_deep``,
    ``too_complex``, ``invalid_text``); ``message`` is for people; ``position`` is the 0-based
    character offset of the offending token when known; ``suggestion`` is the nearest valid
    name or choice when there is one.
    """

    def __init__(
        self,
        code: str,
        message: str,
        position: int | None = None,
        suggestion: str | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.position = position
        self.suggestion = suggestion

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            "position": self.position,
            "suggestion": self.suggestion,
        }

    def __repr__(self) -> str:
        return f"ConditionError({self.code!r}, {self.message!r}, position={self.position!r})"
