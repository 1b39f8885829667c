"""How much a contradiction matters, as one number in [0, 1] a moderator's queue sorts by.

The formula, for a contradiction between teachings that say label ``a`` and label ``b``::

    n       = training examples inside the disputed region (any label)
    e_a,e_b = of those, how many say a / say b
    s       = share of recent prediction inputs that fall inside the region (0 when none given)

    matter   = 1 - exp(-(n + 20 s) / 4)          # 0 with no examples and no traffic; 10 % of
                                                 # the traffic weighs like 2 examples
    balance  = 1 - |e_a - e_b| / (e_a + e_b + 2) # 1 when split evenly (or unknown), towards 0
                                                 # when the examples side with one teaching;
                                                 # the +2 keeps 1-vs-0 from looking settled
    severity = weight(kind) * (0.3 + 0.7 matter) * balance

    weight: rule_overlap 0.8, example_conflict 0.7, rule_example 0.6, rule_exception 0.3,
            concept_duplicate 0.15; an expected rule_example (a counterexample naming the rule
            it refutes) 0.15.

So an overlap nobody has examples for sits in the middle (0.8 · 0.3 · 1 = 0.24), one the
examples dispute evenly rises towards 0.8, and one the examples settle falls below the
unknown ones (6 to 0: 0.17; 20 to 0: 0.07) — the note then says the model can learn the
precedence from the examples.

``example_conflict`` has no region to count in: its severity is 0.7 for the same point and
0.7 · 0.8 for nearly the same point. ``concept_duplicate`` is a naming matter: 0.15.

A rule that disagrees with most of the training examples in its *whole* region (at least 3
of them, more than half labelled otherwise) is a likely mistake or vandalism: every
contradiction it takes part in is lifted above everything else, to

    0.9 + 0.1 * (disagreeing / n_rule) * (1 - exp(-n_rule / 10))

which is above the 0.8 ceiling of the formula. Severities are rounded to 4 decimals so the
same inputs always give the same stored value.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

from mola.engine.consensus.items import (
    CONCEPT_DUPLICATE,
    EXAMPLE_CONFLICT,
    RULE_EXAMPLE,
    RULE_EXCEPTION,
    RULE_OVERLAP,
)

KIND_WEIGHT = {
    RULE_OVERLAP: 0.8,
    EXAMPLE_CONFLICT: 0.7,
    RULE_EXAMPLE: 0.6,
    RULE_EXCEPTION: 0.3,
    CONCEPT_DUPLICATE: 0.15,
}
EXPECTED_WEIGHT = 0.15
TRAFFIC_WEIGHT = 20.0
SUSPECT_MIN_EXAMPLES = 3
# The examples "settle" a dispute when one side has at least this many and balance is low.
SETTLED_MIN_EXAMPLES = 3
SETTLED_BALANCE = 0.4


@dataclass(frozen=True)
class Standing:
    """A rule against the training examples in its whole region."""

    examples: int
    disagreeing: int

    @property
    def suspect(self) -> bool:
        return self.examples >= SUSPECT_MIN_EXAMPLES and 2 * self.disagreeing > self.examples

    @cached_property
    def rank(self) -> float | None:
        """``suspicion`` as it reaches a stored severity (rounded), None when not suspect:
        what a rule's pairs take of its standing, asked once per pair each check."""
        return round(self.suspicion(), 4) if self.suspect else None

    def suspicion(self) -> float:
        """Where a suspect rule ranks above 0.9 (0 when it is not suspect)."""
        if not self.suspect:
            return 0.0
        share = self.disagreeing / self.examples
        return 0.9 + 0.1 * share * (1 - math.exp(-self.examples / 10))


def matter(examples: int, recent_share: float) -> float:
    return 1 - math.exp(-(examples + TRAFFIC_WEIGHT * recent_share) / 4)


def balance(side_a: int, side_b: int) -> float:
    return 1 - abs(side_a - side_b) / (side_a + side_b + 2)


def settled(side_a: int, side_b: int) -> int | None:
    """0 or 1 when the examples clearly side with teaching a or b, else None."""
    if max(side_a, side_b) < SETTLED_MIN_EXAMPLES or balance(side_a, side_b) > SETTLED_BALANCE:
        return None
    return 0 if side_a > side_b else 1


def severity(
    weight: float,
    *,
    examples: int,
    side_a: int,
    side_b: int,
    recent_share: float,
    standings: tuple[Standing, ...] = (),
) -> float:
    """The module docstring's formula; ``standings`` are the rules taking part."""
    value = weight * (0.3 + 0.7 * matter(examples, recent_share))
    value *= balance(side_a, side_b)
    for standing in standings:
        value = max(value, standing.suspicion())
    return round(value, 4)


def suspect_note(name: str, standing: Standing | None = None) -> str:
    """Why a suspect rule's contradiction ranks first. With ``standing`` (a ``rule_example``,
    whose evidence holds the same counts) it says how many examples disagree; without (a
    pair of rules) it does not: each example entering or leaving the rule's region would
    otherwise rewrite the note of every pair the rule is in (~7k rows of an example edit at
    M), and the rule's own ``rule_example`` contradictions show the counts."""
    if standing is None:
        return (
            f"{name[0].upper()}{name[1:]} disagrees with most of the examples in its own "
            "region (its example contradictions give the counts): a likely mistake (or "
            "vandalism), review it first."
        )
    return (
        f"{name[0].upper()}{name[1:]} disagrees with {standing.disagreeing} of the "
        f"{standing.examples} examples in its own region: a likely mistake (or vandalism), "
        "review it first."
    )


def evidence_note(names: tuple[str, str], side_a: int, side_b: int) -> str:
    """What the examples in the disputed region say, and what that means for the model."""
    winner = settled(side_a, side_b)
    if winner is not None:
        counts = (side_a, side_b)
        return (
            f"The examples there side with {names[winner]} ({counts[winner]} to "
            f"{counts[1 - winner]}); the model can learn that precedence from them, so a "
            "moderator only needs to confirm it."
        )
    if side_a + side_b == 0:
        return "No example falls there yet; examples would show which teaching should win."
    return (
        f"The examples there are split ({side_a} for {names[0]}, {side_b} for {names[1]}); "
        "the community needs to decide which teaching wins there, or narrow one of them."
    )
