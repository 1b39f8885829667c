"""What the learner is given: one teaching revision of a space, as plain frozen data.

The Django side builds a ``Snapshot`` in one transaction (``teaching.services.training``);
the learner never reads the database, so every behaviour can be tested with literals.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from mola.engine.language import Condition
from mola.engine.schema import Schema

Expertise = Literal["novice", "intermediate", "expert", "master"]
EXPERTISE_LEVELS: tuple[str, ...] = ("novice", "intermediate", "expert", "master")


@dataclass(frozen=True)
class ConceptSpec:
    """A named predicate of the shared vocabulary, compiled for the snapshot's schema."""

    id: int
    name: str
    author: str
    condition: Condition


@dataclass(frozen=True)
class RuleSpec:
    """``WHEN condition THEN label``; ``expertise`` is the author's level in the space."""

    id: int
    label: str
    author: str
    expertise: str
    condition: Condition
    disputed: bool = False


@dataclass(frozen=True)
class ExampleSpec:
    """Labelled feature values. ``refutes`` names the rule a counterexample argues against;
    an ``evaluation`` example is held out: measured on, never trained on."""

    id: int
    features: Mapping[str, Any]
    label: str
    author: str
    expertise: str
    refutes: int | None = None
    evaluation: bool = False
    disputed: bool = False


@dataclass(frozen=True)
class Precedence:
    """Where both rules fire, ``winner``'s label counts and ``loser``'s vote does not."""

    winner: int
    loser: int


@dataclass(frozen=True)
class Snapshot:
    """Every active teaching of one space at one ``revision`` of its teachings, and a
    bounded sample of its unlabelled case pool (feature values only; ``pool.py``)."""

    schema: Schema
    concepts: Sequence[ConceptSpec] = field(default_factory=tuple)
    rules: Sequence[RuleSpec] = field(default_factory=tuple)
    examples: Sequence[ExampleSpec] = field(default_factory=tuple)
    precedences: Sequence[Precedence] = field(default_factory=tuple)
    revision: int = 0
    pool: Sequence[Mapping[str, Any]] = field(default_factory=tuple)
