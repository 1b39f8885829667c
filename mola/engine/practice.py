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

import numpy as np

REASONS = ("conflict", "experts_disagree", "uncovered", "uncertain")
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
