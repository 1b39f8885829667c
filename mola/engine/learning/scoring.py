"""Turning evidence into probabilities, and measuring them: temperature, log loss, ECE, F1.

Plain numpy: these run on every training, and importing ``sklearn.metrics`` alone costs more
than the computations.
"""

from __future__ import annotations

import numpy as np

TEMPERATURES = np.geomspace(0.05, 5.0, 41)
ECE_BINS = 10
_FLOOR = 1e-12


def tempered(counts: np.ndarray, temperature: float) -> np.ndarray:
    """Probabilities ∝ (counts / total)^(1/temperature); rows of zeros become uniform."""
    if counts.shape[1] == 0:
        return counts.astype(np.float64)
    logits = np.log(np.maximum(counts, _FLOOR)) / temperature
    logits -= logits.max(axis=1, keepdims=True)
    probabilities = np.exp(logits)
    return probabilities / probabilities.sum(axis=1, keepdims=True)


def log_loss(probabilities: np.ndarray, y: np.ndarray, weights: np.ndarray | None = None) -> float:
    """Mean (``weights``-weighted) negative log probability of the true labels."""
    if not len(y):
        return 0.0
    picked = -np.log(np.maximum(probabilities[np.arange(len(y)), y], _FLOOR))
    if weights is None:
        return float(picked.mean())
    return float((picked * weights).sum() / max(weights.sum(), _FLOOR))


def best_temperature(counts: np.ndarray, y: np.ndarray) -> float:
    """The temperature on a fixed grid that minimises log loss (1 when there is nothing to
    learn from). A grid rather than an optimiser: deterministic and a few milliseconds."""
    if len(y) < 2 or counts.shape[1] < 2:
        return 1.0
    logs = np.log(np.maximum(counts, _FLOOR))
    logs -= logs.max(axis=1, keepdims=True)
    own = logs[np.arange(len(y)), y]
    losses = []
    for temperature in TEMPERATURES:
        scaled = logs / temperature
        normaliser = np.log(np.exp(scaled).sum(axis=1))
        losses.append(float((normaliser - own / temperature).mean()))
    return float(TEMPERATURES[int(np.argmin(losses))])


def expected_calibration_error(probabilities: np.ndarray, y: np.ndarray) -> float | None:
    """Top-label ECE over equal-width confidence bins: Σ |accuracy − confidence| × share."""
    if not len(y) or probabilities.shape[1] == 0:
        return None
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == y
    bins = np.minimum((confidence * ECE_BINS).astype(np.int64), ECE_BINS - 1)
    count = np.bincount(bins, minlength=ECE_BINS)
    gap = np.abs(
        np.bincount(bins, correct.astype(np.float64), ECE_BINS)
        - np.bincount(bins, confidence, ECE_BINS)
    )
    return float(gap.sum() / count.sum())


def macro_f1(y_true: np.ndarray, y_pred: np.ndarray, n_labels: int) -> float | None:
    """Unweighted mean F1 over the labels that occur in the truth or the predictions."""
    if not len(y_true):
        return None
    true_positive = np.bincount(y_true[y_true == y_pred], minlength=n_labels)
    actual = np.bincount(y_true, minlength=n_labels)
    predicted = np.bincount(y_pred, minlength=n_labels)
    present = (actual + predicted) > 0
    f1 = 2 * true_positive[present] / (actual[present] + predicted[present])
    return float(f1.mean())
