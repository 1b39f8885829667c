"""A region's constraint on one text feature: atoms that must hold, atoms that must not,
and intervals for its word count and length.

Texts cannot be cut into intervals the way numbers can, so a text constraint is a
conjunction of literals. The set operations regions need stay exact *as sets of literals*:
the meet of two constraints requires and forbids the union of both; the complement of one is
one piece per literal, negated (``not (a and not b)`` is ``not a; or b``); a constraint
covers another when it asks for a subset of its literals. What literals cannot show is that
two different atoms exclude each other (requiring "check out" and forbidding "check"), so
``is_empty`` is only sure when it says True; whether a non-empty-looking constraint really
holds a text is settled by building one (``text_witness``) and checking it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from mola.engine.language.intervals import INF, Interval, format_number
from mola.engine.language.text_atoms import Atom, describe_atom

ANY_COUNT = Interval(0, INF, True, False)
_NONE: frozenset[Atom] = frozenset()


def whole_numbers(interval: Interval) -> Interval:
    """The interval narrowed to the whole numbers in it (counts are whole): ``> 2.5`` is
    ``>= 3``, ``> 4`` is ``>= 5``; an empty interval stays empty."""
    low = -INF if math.isinf(interval.first) else float(math.ceil(interval.first))
    high = INF if math.isinf(interval.last) else float(math.floor(interval.last))
    return Interval(max(low, 0.0), high, True, True)


@dataclass(frozen=True)
class TextConstraint:
    required: frozenset[Atom] = _NONE
    forbidden: frozenset[Atom] = _NONE
    words: Interval = ANY_COUNT
    length: Interval = ANY_COUNT
    _hash: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "words", whole_numbers(self.words))
        object.__setattr__(self, "length", whole_numbers(self.length))
        key = (self.required, self.forbidden, self.words, self.length)
        object.__setattr__(self, "_hash", hash(key))

    def __hash__(self) -> int:
        return self._hash

    def is_empty(self) -> bool:
        """True only when surely empty (see the module docstring)."""
        return (
            bool(self.required & self.forbidden)
            or self.words.is_empty()
            or self.length.is_empty()
            or self.length.last < self.words.first  # every word has a character
        )

    def __and__(self, other: TextConstraint) -> TextConstraint:
        return TextConstraint(
            self.required | other.required,
            self.forbidden | other.forbidden,
            self.words.intersect(other.words),
            self.length.intersect(other.length),
        )

    def __ge__(self, other: TextConstraint) -> bool:
        """Whether this constraint holds every text ``other`` does (sure when True)."""
        return (
            self.required <= other.required
            and self.forbidden <= other.forbidden
            and self.words.contains(other.words)
            and self.length.contains(other.length)
        )

    def complement_within(self, domain: TextConstraint) -> list[TextConstraint]:
        """Constraints whose union is ``domain`` minus this one (one per way out of it)."""
        pieces = [TextConstraint(forbidden=frozenset({atom})) for atom in _ordered(self.required)]
        pieces += [TextConstraint(required=frozenset({atom})) for atom in _ordered(self.forbidden)]
        for part in self.words.complement_within(domain.words):
            pieces.append(TextConstraint(words=part))
        for part in self.length.complement_within(domain.length):
            pieces.append(TextConstraint(length=part))
        return [piece & domain for piece in pieces if not (piece & domain).is_empty()]

    def describe(self, name: str, domain: TextConstraint) -> str:
        parts = [f"{name} {describe_atom(atom)}" for atom in _ordered(self.required)]
        parts += [f"{name} does not {_verb(atom)}" for atom in _ordered(self.forbidden)]
        for measure, interval, whole in (
            ("words", self.words, domain.words),
            ("length", self.length, domain.length),
        ):
            if interval.contains(whole):
                continue  # the whole domain: nothing to say
            parts.append(f"{measure}({name}) is {_count_words(interval, whole)}")
        return " and ".join(parts) if parts else f"{name} is any text"


def text_domain(max_length: int) -> TextConstraint:
    limit = Interval(0, float(max_length), True, True)
    return TextConstraint(words=limit, length=limit)


def _ordered(atoms: frozenset[Atom]) -> list[Atom]:
    return sorted(atoms, key=lambda atom: (type(atom).__name__, str(atom)))


def _verb(atom: Atom) -> str:
    words = describe_atom(atom)
    verb, _, rest = words.partition(" ")
    return {"contains": "contain", "contains_text": "contain_text", "matches": "match"}[
        verb
    ] + f" {rest}"


def _count_words(interval: Interval, whole: Interval) -> str:
    low = format_number(interval.first) if interval.first > whole.first else None
    high = format_number(interval.last) if interval.last < whole.last else None
    if low is not None and high is not None:
        return low if low == high else f"{low}\u2013{high}"
    if low is not None:
        return f"at least {low}"
    if high is not None:
        return f"at most {high}"
    return "any number"
