"""Explanations: the rules that counted, the concepts that held, the nearest examples, and
everyone whose teaching took part — for thousands of rows without per-rule Python.

Whatever can be prepared once per model is: each rule's explanation item (shared between
the explanations that list it: treat explanations as read-only), the order rules are listed
in (most reliable first), and one sorted table of author names, so that contributors
come out of a grid of author codes already in alphabetical order. A block of rows is then
explained with a few numpy passes over the whole block and list slices per row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from mola.engine import collector

if TYPE_CHECKING:
    from mola.engine.learning.model import ExampleTable, RuleTable

EXPLAINED_EXAMPLES = 3
COMPACT_RULES = 3  # deciding rules a compact explanation lists
_GRID_CELLS = 1 << 22  # a contributors grid of at most 4 MB


@dataclass(frozen=True)
class Explanation:
    """One prediction with its reasons, in the shape of the predict endpoint."""

    label: str
    probabilities: dict[str, float]
    rules: list[dict[str, Any]] = field(default_factory=list)
    concepts: list[str] = field(default_factory=list)
    examples: list[dict[str, Any]] = field(default_factory=list)
    contributors: list[str] = field(default_factory=list)
    # On a space with text features: the words that pushed the answer most, each
    # {word, weight, teachers} (text.py); empty elsewhere.
    words: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        explanation: dict[str, Any] = {
            "rules": self.rules,
            "concepts": self.concepts,
            "examples": self.examples,
            "contributors": self.contributors,
        }
        if self.words:
            explanation["words"] = self.words
        return {
            "label": self.label,
            "probabilities": self.probabilities,
            "explanation": explanation,
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
        # Rules are listed most reliable first (then by id): ranked once per model.
        self.by_rank = np.lexsort((rules.ids, -rules.reliability))
        reliability = np.round(rules.reliability, 4).tolist()
        # Two items per rule: "decides" False and True (whether switching the rule off
        # lowers the predicted label's probability: TaughtModel._deciding).
        self.items_by_rank = [
            {
                "id": int(rules.ids[r]),
                "label": labels[rules.labels[r]],
                "author": rules.authors[r],
                "reliability": reliability[r],
                "disputed": bool(rules.disputed[r]),
                "decides": decides,
            }
            for r in self.by_rank.tolist()
            for decides in (False, True)
        ]
        self.example_labels = np.array([labels[i] for i in examples.labels], dtype=object)

    def explain(
        self,
        predicted: list[str],
        probabilities: np.ndarray,
        fired: np.ndarray,
        deciding: np.ndarray,
        held: np.ndarray,
        found: np.ndarray,
        squared: np.ndarray,
    ) -> list[Explanation]:
        """Explanations of a block: ``fired`` (rules, rows) after precedence, ``deciding``
        (rules, rows) which of them decide the prediction, ``held`` (concepts, rows),
        ``found``/``squared`` (rows, ≥3) nearest examples.

        Each part is gathered for the whole block at once: ``np.nonzero`` of a row-major
        matrix lists every row's items in order, row after row, so one flat list per part
        and each row's bounds in it are all a row needs (slices, no per-row numpy).
        """
        with collector.paused():
            return self._explain(predicted, probabilities, fired, deciding, held, found, squared)

    def _explain(
        self, predicted, probabilities, fired, deciding, held, found, squared
    ) -> list[Explanation]:
        n = len(predicted)
        rounded = np.round(probabilities, 6).tolist()
        # Rules with their columns in listing order: each row's come out most reliable first.
        rule_rows, ranks = np.nonzero(np.ascontiguousarray(fired[self.by_rank].T))
        picks = ranks * 2 + deciding[self.by_rank[ranks], rule_rows]
        rules = list(map(self.items_by_rank.__getitem__, picks.tolist()))
        concept_rows, concepts = np.nonzero(np.ascontiguousarray(held.T))
        concept_names = list(map(self.concept_names.__getitem__, concepts.tolist()))
        nearest = found[:, :EXPLAINED_EXAMPLES]
        example_rows, slots = np.nonzero(nearest >= 0)
        shown = nearest[example_rows, slots]
        distances = np.round(np.sqrt(squared[example_rows, slots].astype(np.float64)), 4)
        examples = self.examples
        example_items = [
            {"id": i, "label": label, "distance": distance, "disputed": disputed}
            for i, label, distance, disputed in zip(
                examples.ids[shown].tolist(),
                self.example_labels[shown].tolist(),
                distances.tolist(),
                examples.disputed[shown].tolist(),
                strict=True,
            )
        ]
        people_rows, people = self._contributors(
            n,
            (rule_rows, self.rule_authors[self.by_rank[ranks]]),
            (concept_rows, self.concept_authors[concepts]),
            (example_rows, self.example_authors[shown]),
        )
        names = self.authors[people].tolist()
        rule_at, concept_at, example_at, people_at = (
            _bounds(rows, n) for rows in (rule_rows, concept_rows, example_rows, people_rows)
        )
        labels = self.labels
        return [
            Explanation(
                label=predicted[i],
                probabilities=dict(zip(labels, rounded[i], strict=True)),
                rules=rules[rule_at[i] : rule_at[i + 1]],
                concepts=concept_names[concept_at[i] : concept_at[i + 1]],
                examples=example_items[example_at[i] : example_at[i + 1]],
                contributors=names[people_at[i] : people_at[i + 1]],
            )
            for i in range(n)
        ]

    def compact(
        self,
        predicted: list[str],
        probabilities: np.ndarray,
        fired: np.ndarray,
        deciding: np.ndarray,
        found: np.ndarray,
        squared: np.ndarray,
    ) -> list[dict[str, Any]]:
        """Compact predictions of a block (the predict endpoint's ``"explain": "compact"``):
        per row the deciding rules (``deciding``, rules × rows: TaughtModel._deciding) most
        reliable first, at most ``COMPACT_RULES`` of them, how many rules decide and how
        many more fired, the nearest example, and the people these name."""
        with collector.paused():
            return self._compact(predicted, probabilities, fired, deciding, found, squared)

    def _compact(
        self, predicted, probabilities, fired, deciding, found, squared
    ) -> list[dict[str, Any]]:
        n = len(predicted)
        rounded = np.round(probabilities, 6).tolist()
        ranked = np.ascontiguousarray(fired[self.by_rank].T)  # (rows, rules by rank)
        rows, ranks = np.nonzero(np.ascontiguousarray(deciding[self.by_rank].T))
        counts = np.bincount(rows, minlength=n)
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        listed = (np.arange(len(rows)) - starts[rows]) < COMPACT_RULES
        rows, ranks = rows[listed], ranks[listed]
        rules = list(map(self.items_by_rank.__getitem__, (ranks * 2 + 1).tolist()))
        authors = self.rule_authors[self.by_rank[ranks]].tolist()
        shown = found[:, 0] if found.shape[1] else np.full(n, -1)
        near = np.flatnonzero(shown >= 0)
        nearest = shown[near]
        examples: list[list[dict[str, Any]]] = [[] for _ in range(n)]
        example_authors: list[int | None] = [None] * n
        for i, e_id, label, distance, disputed, author in zip(
            near.tolist(),
            self.examples.ids[nearest].tolist(),
            self.example_labels[nearest].tolist(),
            np.round(np.sqrt(squared[near, :1].astype(np.float64)), 4).ravel().tolist(),
            self.examples.disputed[nearest].tolist(),
            self.example_authors[nearest].tolist(),
            strict=True,
        ):
            examples[i] = [{"id": e_id, "label": label, "distance": distance, "disputed": disputed}]
            example_authors[i] = author
        rule_at = _bounds(rows, n)
        fired_per_row = ranked.sum(axis=1).tolist()
        names = self.authors.tolist()
        labels = self.labels
        predictions = []
        for i in range(n):
            start, stop = rule_at[i], rule_at[i + 1]
            people = set(authors[start:stop])
            if example_authors[i] is not None:
                people.add(example_authors[i])
            predictions.append(
                {
                    "label": predicted[i],
                    "probabilities": dict(zip(labels, rounded[i], strict=True)),
                    "explanation": {
                        "rules": rules[start:stop],
                        "deciding": int(counts[i]),
                        "more_rules": fired_per_row[i] - (stop - start),
                        "examples": examples[i],
                        "contributors": sorted(names[p] for p in people),
                    },
                }
            )
        return predictions

    def _contributors(
        self, n: int, *parts: tuple[np.ndarray, np.ndarray]
    ) -> tuple[np.ndarray, np.ndarray]:
        """(row, author code) of every row's distinct authors, by row then by name.

        Marks a (rows × authors) grid, a few rows at a time so that a space with very
        many authors never needs a large one."""
        n_authors = max(1, len(self.authors))
        step = max(1, _GRID_CELLS // n_authors)
        rows = np.concatenate([r for r, _ in parts])
        authors = np.concatenate([a for _, a in parts])
        found_rows, found_authors = [], []
        for start in range(0, n, step):
            inside = (rows >= start) & (rows < start + step)
            grid = np.zeros((min(step, n - start), n_authors), dtype=bool)
            grid[rows[inside] - start, authors[inside]] = True
            r, a = np.nonzero(grid)
            found_rows.append(r + start)
            found_authors.append(a)
        if not found_rows:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        return np.concatenate(found_rows), np.concatenate(found_authors)


def _bounds(rows: np.ndarray, n: int) -> list[int]:
    """Where each of ``n`` rows starts in a list sorted by row (and where the last ends)."""
    return [0, *np.cumsum(np.bincount(rows, minlength=n)).tolist()]
