"""Explanations: the rules that counted, the concepts that held, the nearest examples, and
everyone whose teaching took part — for thousands of rows without per-rule Python.

Whatever can be prepared once per model is: each rule's explanation item (shared between
the explanations that list it: treat explanations as read-only), the order rules are listed
in (most reliable first), and one sorted table of author names, so that a row's
contributors are one ``np.unique`` over author codes (already in alphabetical order).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from mola.engine.learning.model import ExampleTable, RuleTable

EXPLAINED_EXAMPLES = 3


@dataclass(frozen=True)
class Explanation:
    """One prediction with its reasons, in the shape of the predict endpoint."""

    label: str
    probabilities: dict[str, float]
    rules: list[dict[str, Any]] = field(default_factory=list)
    concepts: list[str] = field(default_factory=list)
    examples: list[dict[str, Any]] = field(default_factory=list)
    contributors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "probabilities": self.probabilities,
            "explanation": {
                "rules": self.rules,
                "concepts": self.concepts,
                "examples": self.examples,
                "contributors": self.contributors,
            },
        }


class Explainer:
    """Turns one block of evidence into explanations; built from a model's learned tables."""

    def __init__(
        self,
        labels: tuple[str, ...],
        rules: RuleTable,
        concept_names: list[str],
        concept_authors: list[str],
        examples: ExampleTable,
    ) -> None:
        self.labels = labels
        self.concept_names = concept_names
        self.examples = examples
        names = sorted({*rules.authors, *concept_authors, *examples.authors})
        code = {name: i for i, name in enumerate(names)}
        self.authors = np.array(names, dtype=object)
        self.rule_authors = np.array([code[a] for a in rules.authors], dtype=np.int64)
        self.concept_authors = np.array([code[a] for a in concept_authors], dtype=np.int64)
        self.example_authors = np.array([code[a] for a in examples.authors], dtype=np.int64)
        # Rules are listed most reliable first (then by id): rank once, sort ranks per row.
        self.by_rank = np.lexsort((rules.ids, -rules.reliability))
        self.rank = np.empty_like(self.by_rank)
        self.rank[self.by_rank] = np.arange(len(self.by_rank))
        reliability = np.round(rules.reliability, 4).tolist()
        self.rule_items = [
            {
                "id": int(rules.ids[r]),
                "label": labels[rules.labels[r]],
                "author": rules.authors[r],
                "reliability": reliability[r],
                "disputed": bool(rules.disputed[r]),
            }
            for r in range(len(rules.ids))
        ]

    def explain(
        self,
        predicted: list[str],
        probabilities: np.ndarray,
        fired: np.ndarray,
        held: np.ndarray,
        found: np.ndarray,
        squared: np.ndarray,
    ) -> list[Explanation]:
        """Explanations of a block: ``fired`` (rules, rows) after precedence, ``held``
        (concepts, rows), ``found``/``squared`` (rows, ≥3) nearest examples."""
        rounded = np.round(probabilities, 6).tolist()
        nearest = found[:, :EXPLAINED_EXAMPLES]
        distances = np.round(np.sqrt(squared[:, :EXPLAINED_EXAMPLES].astype(np.float64)), 4)
        # Row-major copies: a row's rules and concepts are then contiguous.
        fired_rows, held_rows = np.ascontiguousarray(fired.T), np.ascontiguousarray(held.T)
        return [
            self._one(
                predicted[i], rounded[i], fired_rows[i], held_rows[i], nearest[i], distances[i]
            )
            for i in range(len(predicted))
        ]

    def _one(self, label, probabilities, fired, held, nearest, distances) -> Explanation:
        positions = np.flatnonzero(fired)
        ordered = self.by_rank[np.sort(self.rank[positions])].tolist()
        concepts = np.flatnonzero(held)
        valid = nearest >= 0
        shown = nearest[valid]
        examples = self.examples
        example_items = [
            {
                "id": int(examples.ids[j]),
                "label": self.labels[examples.labels[j]],
                "distance": distance,
                "disputed": bool(examples.disputed[j]),
            }
            for j, distance in zip(shown.tolist(), distances[valid].tolist(), strict=True)
        ]
        people = np.unique(
            np.concatenate(
                [
                    self.rule_authors[positions],
                    self.concept_authors[concepts],
                    self.example_authors[shown],
                ]
            )
        )
        return Explanation(
            label=label,
            probabilities=dict(zip(self.labels, probabilities, strict=True)),
            rules=[self.rule_items[r] for r in ordered],
            concepts=[self.concept_names[c] for c in concepts.tolist()],
            examples=example_items,
            contributors=self.authors[people].tolist(),
        )
