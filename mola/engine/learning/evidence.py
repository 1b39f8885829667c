"""The teachers' side of the evidence: expertise priors, rule reliability, rule votes.

A rule is a claim "where I fire, the label is L". Its reliability is the Beta posterior mean
of "the label is L when I fire", with a prior whose mean and strength grow with the author's
expertise (a master starts more trusted *and* needs more contrary evidence to move) and
whose data are the training examples the rule covers, weighted like everywhere else.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

# Beta(a, b) pseudo-counts per expertise level: mean a/(a+b), strength a+b.
RULE_PRIORS: dict[str, tuple[float, float]] = {
    "novice": (1.4, 0.6),  # 0.70, worth 2 examples
    "intermediate": (3.2, 0.8),  # 0.80, worth 4
    "expert": (7.0, 1.0),  # 0.875, worth 8
    "master": (15.0, 1.0),  # 0.9375, worth 16
}
# How much one example counts, by its author's expertise.
EXAMPLE_WEIGHTS: dict[str, float] = {
    "novice": 0.6,
    "intermediate": 0.8,
    "expert": 1.0,
    "master": 1.2,
}
# A disputed teaching still takes part, at this fraction of its weight, until resolved.
DISPUTED_DISCOUNT = 0.5
# A counterexample is a deliberate "the rule is wrong here": it counts double near itself,
# so that it carves its exception even against a trusted rule.
COUNTEREXAMPLE_EMPHASIS = 2.0


def rule_prior(expertise: str) -> tuple[float, float]:
    """Beta pseudo-counts for a rule author's level (unknown levels count as novice)."""
    return RULE_PRIORS.get(expertise, RULE_PRIORS["novice"])


def example_weight(expertise: str, *, disputed: bool, counterexample: bool) -> float:
    weight = EXAMPLE_WEIGHTS.get(expertise, EXAMPLE_WEIGHTS["novice"])
    if disputed:
        weight *= DISPUTED_DISCOUNT
    if counterexample:
        weight *= COUNTEREXAMPLE_EMPHASIS
    return weight


def suppress_losers(fired: np.ndarray, winners: np.ndarray, losers: np.ndarray) -> np.ndarray:
    """``fired`` (n_rules, n_rows) without each loser's firing on the rows where one of its
    winners fires (modified in place and returned).

    Winners are judged on the original firing, so a chain a > b > c silences c wherever b
    fires, whether or not a silenced b there.
    """
    if not len(winners) or fired.shape[1] == 0:
        return fired
    order = np.argsort(losers, kind="stable")
    beaten_rules, starts = np.unique(losers[order], return_index=True)
    beaten = np.logical_or.reduceat(fired[winners[order]], starts, axis=0)
    fired[beaten_rules] &= ~beaten
    return fired


def reliability(
    prior: np.ndarray, agree: np.ndarray | float, disagree: np.ndarray | float
) -> np.ndarray:
    """Beta posterior mean; ``prior`` is (n, 2) pseudo-counts."""
    return (prior[:, 0] + agree) / (prior[:, 0] + prior[:, 1] + agree + disagree)


def vote_matrix(
    rule_labels: np.ndarray, reliabilities: np.ndarray, strengths: np.ndarray, n_labels: int
) -> np.ndarray:
    """(n_rules, n_labels): each rule's pseudo-counts when it fires.

    A rule trusted at ρ says "my label with probability ρ, each other 1-ρ over the rest";
    that is a uniform part (which says nothing) plus what the rule knows, and only the
    latter is counted (``informative_votes``): ρ above 1/n_labels puts its excess on the
    rule's label, ρ below it — a rule the examples contradict — votes against its own
    label, on the others. So switching a rule off always lowers the probability of what it
    voted for (the deletion test of explanations, bench/quality.py).
    """
    votes = np.zeros((len(rule_labels), n_labels))
    if n_labels == 0 or not len(rule_labels):
        return votes
    if n_labels == 1:
        votes[:, 0] = strengths
        return votes
    on_label, on_others = informative_votes(reliabilities, n_labels)
    votes += (strengths * on_others)[:, None]
    votes[np.arange(len(rule_labels)), rule_labels] = strengths * on_label
    return votes


def informative_votes(reliabilities: np.ndarray, n_labels: int) -> tuple[np.ndarray, np.ndarray]:
    """(on the rule's label, on each other label) of rules trusted at ``reliabilities``:
    the non-uniform part of (ρ on the label, (1-ρ)/(n-1) on each other)."""
    excess = (np.asarray(reliabilities, dtype=np.float64) * n_labels - 1) / (n_labels - 1)
    return np.maximum(excess, 0.0), np.maximum(-excess, 0.0)


def leave_one_out_votes(
    fired: np.ndarray,
    y: np.ndarray,
    weights: np.ndarray,
    rule_labels: np.ndarray,
    prior: np.ndarray,
    agree: np.ndarray,
    disagree: np.ndarray,
    strengths: np.ndarray,
    n_labels: int,
) -> np.ndarray:
    """(n_rows, n_labels) rule votes at held-out training rows (``fired`` is (n_rules, n_rows),
    ``y`` and ``weights`` theirs), each with the reliabilities re-estimated without that row's
    own example, so that choosing the model's settings does not peek."""
    n_rows = fired.shape[1]
    r, i = np.nonzero(fired)
    own = y[i] == rule_labels[r]
    w = weights[i]
    rho = reliability(prior[r], agree[r] - w * own, disagree[r] - w * ~own)
    votes = np.zeros((n_rows, n_labels))
    if n_labels <= 1 or not len(i):
        if n_labels == 1:
            votes[:, 0] = np.bincount(i, strengths[r], minlength=n_rows)
        return votes
    on_label, on_others = informative_votes(rho, n_labels)
    spread = strengths[r] * on_others
    votes += np.bincount(i, spread, minlength=n_rows)[:, None]
    extra = strengths[r] * on_label - spread
    flat = np.bincount(i * n_labels + rule_labels[r], extra, minlength=n_rows * n_labels)
    return votes + flat.reshape(n_rows, n_labels)


def rule_strengths(disputed: Sequence[bool]) -> np.ndarray:
    """Vote strength of each rule before the global scale: disputed rules count less."""
    return np.where(np.asarray(disputed, dtype=bool), DISPUTED_DISCOUNT, 1.0)
