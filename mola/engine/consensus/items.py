"""The consensus core's inputs (teachings as plain data) and its output (contradictions).

The Django side loads teachings through its selectors, turns them into these dataclasses and
stores the ``Contradiction`` values it gets back; nothing here knows about the database.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

from mola.engine.language import Region

TeachingType = Literal["concept", "example", "rule"]

RULE_OVERLAP = "rule_overlap"
RULE_EXCEPTION = "rule_exception"
RULE_EXAMPLE = "rule_example"
EXAMPLE_CONFLICT = "example_conflict"
CONCEPT_DUPLICATE = "concept_duplicate"
KINDS = (RULE_OVERLAP, RULE_EXCEPTION, RULE_EXAMPLE, EXAMPLE_CONFLICT, CONCEPT_DUPLICATE)


class Ref(NamedTuple):
    """Which teaching: its type and its id. Sorts by type, then id (a stable order that keys,
    witnesses and intersections are all built in). A named tuple, not a dataclass: a warm
    check at M hashes and compares refs a few million times, and a tuple does that in C (the
    dataclass's ``__hash__`` was ~7 % of a check)."""

    type: TeachingType
    id: int

    def __str__(self) -> str:
        return f"{self.type}:{self.id}"


@dataclass(frozen=True)
class RuleItem:
    """``WHEN region THEN label``; ``text`` is the condition as the author wrote it."""

    id: int
    label: str
    author: str
    region: Region = field(repr=False)
    text: str = ""

    @property
    def ref(self) -> Ref:
        return Ref("rule", self.id)


@dataclass(frozen=True)
class ExampleItem:
    """A labelled case. ``point`` holds a valid value for every schema feature (see
    ``validate_row``). ``refutes`` names the rule a counterexample was written against.
    Evaluation examples are held out: they are still checked as teachings, but they are never
    counted as evidence for or against a rule."""

    id: int
    label: str
    author: str
    point: Mapping[str, Any] = field(repr=False)
    refutes: int | None = None
    evaluation: bool = False

    @property
    def ref(self) -> Ref:
        return Ref("example", self.id)


@dataclass(frozen=True)
class ConceptItem:
    id: int
    name: str
    author: str
    region: Region = field(repr=False)

    @property
    def ref(self) -> Ref:
        return Ref("concept", self.id)


Item = RuleItem | ExampleItem | ConceptItem


@dataclass(frozen=True)
class Contradiction:
    """Teachings that cannot all hold, with a concrete case where they disagree.

    ``teachings`` is sorted; ``key`` depends only on ``kind`` and ``teachings`` so the
    Django side can upsert on it. ``witness`` is a point inside every teaching's region (for
    ``rule_example`` the example itself; for ``example_conflict`` the first example).
    ``evidence`` counts training examples per label in the disputed region. ``expected`` is
    True when the disagreement was declared on purpose (a counterexample that names the rule
    it refutes): record it, but do not open a dispute. ``summary`` is one sentence a coach
    reads ("Rule #12 (anna) says toss in front, rule #31 (ben) says no cue, when ...").
    """

    kind: str
    teachings: tuple[Ref, ...]
    witness: dict[str, Any]
    region_text: str
    evidence: dict[str, int]
    severity: float
    note: str
    key: str
    expected: bool = False
    summary: str = ""
    # What the counts a rule contradiction shows come from (``counted``): its note and
    # evidence here leave them out. Empty for the kinds that show what they hold.
    counted: tuple[str, ...] = ()


def contradiction_key(kind: str, teachings: tuple[Ref, ...]) -> str:
    """``rule_overlap:rule:12+rule:31`` — stable, readable, and short enough for an index."""
    return f"{kind}:" + "+".join(f"{t}:{i}" for t, i in sorted((r.type, r.id) for r in teachings))


def teaching_words(item: Item, *, first: bool) -> str:
    """How a summary names a teaching and what it says: "Rule #12 (anna) says toss in front"."""
    if isinstance(item, RuleItem):
        words = f"rule #{item.id} ({item.author}) says {item.label}"
    elif isinstance(item, ExampleItem):
        words = f"example #{item.id} ({item.author}) is labelled {item.label}"
    else:
        words = f"concept {item.name} ({item.author})"
    return words[0].upper() + words[1:] if first else words


def teaching_name(item: Item) -> str:
    """The short name a note uses: "rule #12", "example #5", "concept high_toss"."""
    if isinstance(item, RuleItem):
        return f"rule #{item.id}"
    if isinstance(item, ExampleItem):
        return f"example #{item.id}"
    return f"concept {item.name}"
