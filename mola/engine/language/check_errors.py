"""The checker's errors in words a coach reads, with the offending position (checker.py
raises them; the parser's errors: syntax_errors.py)."""

from __future__ import annotations

import difflib

from mola.engine.language.errors import ConditionError
from mola.engine.language.nodes import Bool, Measure, Name, Number, Operand, String

LITERAL_WORDS = {Number: "a number", String: "a text", Bool: "true or false", Measure: "a count"}


def nearest(word: str, candidates: object) -> str | None:
    """The candidate a mistyped ``word`` most likely meant (case aside first), or None."""
    options = list(candidates)  # type: ignore[call-overload]
    lowered = {option.lower(): option for option in options}
    if word.lower() in lowered:
        return lowered[word.lower()]
    matches = difflib.get_close_matches(word[:100], options, n=1, cutoff=0.6)
    return matches[0] if matches else None


def unknown_name(name: Name, candidates: list[str]) -> ConditionError:
    """A name that is no feature or concept of the space, with the nearest of ``candidates``."""
    suggestion = nearest(name.name, candidates)
    message = f"{name.name[:64]!r} is not a feature or concept of this space."
    if suggestion:
        message += f" Did you mean {suggestion!r}?"
    return ConditionError("unknown_name", message, name.position, suggestion)


def type_mismatch(name: str, wanted: str, value: Operand) -> ConditionError:
    got = f"the name {value.name[:64]!r}" if isinstance(value, Name) else LITERAL_WORDS[type(value)]
    return ConditionError(
        "type_mismatch", f"{name} is compared with {wanted}, not with {got}.", value.position
    )


def unquoted_choice(value: Name) -> ConditionError:
    quoted = f'"{value.name}"'
    return ConditionError(
        "type_mismatch",
        f"Write the choice in double quotes: {quoted}.",
        value.position,
        quoted,
    )


def bad_operator(name: str, kind: str, allowed: str, position: int) -> ConditionError:
    return ConditionError("bad_operator", f"{name} is a {kind}; use {allowed} with it.", position)


def bad_comparison(position: int) -> ConditionError:
    return ConditionError(
        "bad_comparison",
        "Compare a feature or concept with a value, e.g. toss_height_cm > 60.",
        position,
    )
