"""The practice queue: which unlabelled cases are worth an expert's answer, and why.

Each candidate case gets a *score* — how much an answer is likely to teach the model — and
one *reason* a teacher can read:

- ``conflict``          rules of different labels fire on it and no precedence settles them;
- ``experts_disagree``  the nearest teaching examples (within the kernel's reach) carry
                        different labels;
- ``uncovered``         no rule fires on it;
- ``uncertain``         none of those, but the model's top two labels are close.

The score is uncertainty sampling (one minus the margin between the two most probable
labels: Settles' margin sampling, the base of Prodigy's ``prefer_uncertain``) plus a bonus
per structural reason, so that among equally unsure cases the ones where the teaching
itself is at odds come first. *Difficulty* — what a higher expertise is given first — is
the same uncertainty plus the disagreement bonuses (a case where teachers disagree is hard
whatever the model says).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from mola.engine.table import Table

REASONS = ("conflict", "experts_disagree", "uncovered", "uncertain")
SHORTLIST = 200  # candidates explained (their nearest examples decide experts_disagree)
BONUS = {"conflict": 0.3, "experts_disagree": 0.3, "uncovered": 0.15}
# Expertise levels that get the hardest of the best cases first; novices the easiest.
HARD_FIRST = ("expert", "master")


@dataclass(frozen=True)
class Ranked:
    """Candidates best first: positions into the arrays given, with reasons and scores."""

    order: np.ndarray
    reasons: list[str]  # per candidate (not reordered)
    scores: np.ndarray
    difficulty: np.ndarray


def margins(probabilities: np.ndarray) -> np.ndarray:
    """Top probability minus the runner-up, per row (1 for a single label)."""
    if probabilities.shape[1] < 2:
        return np.ones(len(probabilities))
    top_two = np.sort(probabilities, axis=1)[:, -2:]
    return top_two[:, 1] - top_two[:, 0]


def rank(
    probabilities: np.ndarray,
    conflicted: np.ndarray,
    covered: np.ndarray,
    disagree: np.ndarray | None = None,
) -> Ranked:
    """Rank candidates by score (ties broken by position, so the order is stable)."""
    n = len(probabilities)
    disagree = np.zeros(n, dtype=bool) if disagree is None else disagree
    uncertainty = 1.0 - margins(probabilities)
    structural = BONUS["conflict"] * conflicted + BONUS["experts_disagree"] * disagree
    difficulty = uncertainty + structural
    scores = difficulty + BONUS["uncovered"] * ~covered
    reasons = np.where(
        conflicted,
        "conflict",
        np.where(disagree, "experts_disagree", np.where(~covered, "uncovered", "uncertain")),
    ).tolist()
    order = np.lexsort((np.arange(n), -scores))
    return Ranked(order=order, reasons=reasons, scores=scores, difficulty=difficulty)


def for_expertise(order: np.ndarray, difficulty: np.ndarray, expertise: str) -> np.ndarray:
    """The same best cases in the order one member gets them: experts and masters the
    hardest first, novices the easiest first, intermediates by score."""
    if expertise in HARD_FIRST:
        return order[np.argsort(-difficulty[order], kind="stable")]
    if expertise == "novice":
        return order[np.argsort(difficulty[order], kind="stable")]
    return order


def examples_disagree(labels: list[list[str]], distances: list[list[float]], reach: float):
    """Per case: do its nearest examples within ``reach`` carry more than one label?"""
    return np.array(
        [
            len({label for label, d in zip(row, dist, strict=True) if d <= reach}) > 1
            for row, dist in zip(labels, distances, strict=True)
        ],
        dtype=bool,
    )


@dataclass(frozen=True)
class Queue:
    """A ranked shortlist: ``positions`` into the candidates given, best first, with each
    one's reason, score, difficulty and the model's explanation (aligned with positions)."""

    positions: np.ndarray
    reasons: list[str]
    scores: np.ndarray
    difficulty: np.ndarray
    explanations: list[Any]


def rank_cases(
    model: Any,
    table: Table,
    conflicted: np.ndarray,
    covered: np.ndarray,
    shortlist: int = SHORTLIST,
) -> Queue:
    """Rank candidate cases with a taught model: margin sampling and the rule reasons over
    all of them (``predict_proba``), then the best ``shortlist`` explained and ranked again
    with ``experts_disagree`` (nearest examples within three kernel bandwidths)."""
    first = rank(model.predict_proba(table), conflicted, covered)
    short = first.order[:shortlist]
    rows = {name: column[short] for name, column in table.columns.items()}
    explanations = model.explain(Table(columns=rows, n_rows=len(short)))
    reach = 3 * float(getattr(model, "bandwidth_", np.inf))
    disagree = examples_disagree(
        [[e["label"] for e in x.examples] for x in explanations],
        [[e["distance"] for e in x.examples] for x in explanations],
        reach,
    )
    labels = list(model.labels_)
    probabilities = np.array(
        [[x.probabilities[label] for label in labels] for x in explanations]
    ).reshape(len(short), len(labels))
    final = rank(probabilities, conflicted[short], covered[short], disagree)
    order = final.order
    return Queue(
        positions=short[order],
        reasons=[final.reasons[i] for i in order],
        scores=final.scores[order],
        difficulty=final.difficulty[order],
        explanations=[explanations[i] for i in order],
    )
