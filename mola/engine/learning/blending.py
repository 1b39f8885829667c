"""Blending the forest into the counts, and choosing the blend (forest.py says why).

counts(x) = s · teaching(x) + kernel(x) + c · support(x) · p(x)
p(x) = (1 − veto(x)) · p_forest(x) + veto(x) · [label of the nearest counterexample]
"""

from __future__ import annotations

import math

import numpy as np

from mola.engine.learning.scoring import log_loss
from mola.engine.learning.text import TEXT_MASSES

TREE_MASSES = (0.0, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0)


def tree_evidence(
    probabilities: np.ndarray,
    support: np.ndarray,
    found: np.ndarray,
    squared: np.ndarray,
    vetoes: np.ndarray,
    labels: np.ndarray,
    bandwidth: float,
    mass: float,
) -> np.ndarray:
    """(rows, labels) the forest's pseudo-counts: ``mass`` × ``support`` × its probabilities,
    which give way to a counterexample's label next to it. ``vetoes`` and ``labels``: which
    stored examples are counterexamples, and their labels."""
    if mass == 0:
        return np.zeros_like(probabilities)
    said = probabilities.copy()
    if vetoes.any() and found.shape[1]:
        # The strongest counterexample within the kernel's reach, by its kernel weight.
        valid = (found >= 0) & (squared <= 9 * bandwidth * bandwidth)
        counter = valid & vetoes[np.maximum(found, 0)]
        kernel = np.where(
            counter, np.exp(-squared.astype(np.float64) / (2 * bandwidth * bandwidth)), 0.0
        )
        strongest = kernel.argmax(axis=1)
        rows = np.arange(len(found))
        veto = kernel[rows, strongest]
        said *= (1 - veto)[:, None]
        said[rows, labels[np.maximum(found[rows, strongest], 0)]] += veto
    return (mass * support)[:, None] * said


def choose(
    teaching: np.ndarray,
    near: dict[float, np.ndarray],
    found: np.ndarray,
    squared: np.ndarray,
    truth: np.ndarray,
    strengths: tuple[float, ...],
    out_of_fold: np.ndarray | None,
    support: np.ndarray,
    vetoes: np.ndarray,
    labels: np.ndarray,
    kept: float | None = None,
    trusted: np.ndarray | None = None,
    text: np.ndarray | None = None,
) -> tuple[float, float, float, float, np.ndarray]:
    """(strength, bandwidth, mass, counts) of least log loss at the held-out rows.

    ``teaching`` (rows, labels) is the prior plus the rules' votes, ``near`` the kernel
    evidence per candidate bandwidth, ``support`` the forest's at each row; without trees
    only c = 0 is tried. ``kept``: reused trees' mass, then not chosen again. ``trusted``:
    each row's weight in the loss (its author's discount: a label the forest found
    doubtful says less about which blend is right). ``text``: the TextReader's out-of-fold
    probabilities at the rows, whose mass is chosen with the rest (0 without texts).
    """
    best: tuple[float, ...] = (math.inf,)
    # A fitted forest always takes part (c > 0): with few examples its out-of-bag
    # probabilities understate it (each comes from a third of the trees, each tree from
    # a bootstrap of few rows), and c = 0 dropped it where it would have helped.
    masses = TREE_MASSES[1:] if out_of_fold is not None else (0.0,)
    if kept is not None and out_of_fold is not None:
        masses = (kept,)
    for bandwidth, kernel in near.items():
        trees = (
            tree_evidence(out_of_fold, support, found, squared, vetoes, labels, bandwidth, 1.0)
            if out_of_fold is not None
            else np.zeros_like(teaching)
        )
        for mass in masses:
            for strength in strengths:
                base = strength * teaching + kernel + mass * trees
                for text_mass in TEXT_MASSES if text is not None else (0.0,):
                    counts = base + text_mass * text if text_mass else base
                    loss = log_loss(counts / counts.sum(axis=1, keepdims=True), truth, trusted)
                    if loss < best[0] - 1e-12:
                        best = (loss, strength, bandwidth, mass, text_mass, counts)
    _, strength, bandwidth, mass, text_mass, counts = best
    return strength, bandwidth, mass, text_mass, counts
