"""The baselines of bench/quality.py: what one would build from the same teachings without
MOLA. Each is fitted on the same training examples MOLA trains on (never the evaluation
ones) and tuned fairly: a small grid, chosen by out-of-bag accuracy (forests) or 3-fold
cross-validated accuracy (boosting) on those examples only.

- ``rules_as_features``: the case's values (categories one-hot) plus one 0/1 column per rule
  (does it fire?) and one per concept (does it hold?), for a random forest and for
  histogram gradient boosting;
- ``examples_only``: gradient boosting on the values alone;
- ``majority_vote``: the rules that fire vote; ties and silence go to the most frequent
  training label.

Every bench scores MOLA and these on the same held-out cases of a world
(``held_out_cases``), the baselines on the same columns (``rules_as_features``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.model_selection import StratifiedKFold
from threadpoolctl import threadpool_limits

from mola.engine.schema import Schema
from mola.engine.table import Table, table_from_rows

FOREST_GRID = (
    {"max_features": "sqrt", "min_samples_leaf": 1},
    {"max_features": 0.5, "min_samples_leaf": 1},
    {"max_features": "sqrt", "min_samples_leaf": 3},
    {"max_features": 0.5, "min_samples_leaf": 3},
)
BOOSTING_GRID = (
    {"learning_rate": 0.1, "max_leaf_nodes": 31, "min_samples_leaf": 20},
    {"learning_rate": 0.1, "max_leaf_nodes": 15, "min_samples_leaf": 5},
    {"learning_rate": 0.05, "max_leaf_nodes": 7, "min_samples_leaf": 3},
)


def values(schema: Schema, table: Table) -> np.ndarray:
    """Numbers as they are (missing as NaN), booleans 0/1, categories one-hot."""
    parts = []
    for feature in schema.features:
        column = table.column(feature.name)
        if feature.kind == "category":
            parts.append(column[:, None] == np.arange(len(feature.choices))[None, :])
        else:
            parts.append(column[:, None])
    return np.hstack(parts).astype(np.float64)


TEST_SEED = 900_001


@dataclass(frozen=True)
class HeldOut:
    """Held-out cases of a world: their rows, as a table, and each one's true label index."""

    rows: list
    table: Table
    labels: np.ndarray


def held_out_cases(teaching, n: int) -> HeldOut:
    """``n`` cases of ``teaching``'s world (bench/_quality_world.Teaching) no teacher saw,
    the same for every method and every bench: drawn with ``TEST_SEED`` + the world's seed."""
    rows = teaching.world.sample_rows(n, np.random.default_rng(TEST_SEED + teaching.seed))
    index = {name: i for i, name in enumerate(teaching.schema.label_names)}
    labels = np.array([index[x] for x in teaching.world.true_labels(rows)])
    return HeldOut(rows, table_from_rows(teaching.schema, rows), labels)


def rules_as_features(teaching, table: Table) -> np.ndarray:
    """The rules-as-features columns of ``table``'s rows: the values, then one 0/1 column per
    rule and per concept of ``teaching`` (bench/_quality_world.Teaching)."""
    conditions = [r.condition for r in teaching.rules] + [c.condition for c in teaching.concepts]
    return np.hstack([values(teaching.schema, table), firing(conditions, table)])


def firing(conditions, table: Table) -> np.ndarray:
    """rows × conditions: where each holds."""
    if not conditions:
        return np.zeros((table.n_rows, 0), dtype=bool)
    return np.array([c.evaluate(table) for c in conditions]).T.reshape(table.n_rows, -1)


def majority_vote(fires: np.ndarray, rule_labels: np.ndarray, frequency: np.ndarray) -> np.ndarray:
    votes = fires.astype(np.float64) @ np.eye(len(frequency))[rule_labels]
    tie_break = frequency / (frequency.sum() + 1) * 1e-3
    return np.argmax(votes + tie_break, axis=1)


def _oob_accuracy(model, y) -> float:
    probabilities = np.nan_to_num(model.oob_decision_function_)
    return float((model.classes_[probabilities.argmax(axis=1)] == y).mean())


def tuned_forest(x: np.ndarray, y: np.ndarray, seed: int, trees: int) -> RandomForestClassifier:
    """A random forest of the grid setting with the best out-of-bag accuracy."""
    best = None
    for setting in FOREST_GRID:
        model = RandomForestClassifier(
            n_estimators=trees, oob_score=True, random_state=seed, n_jobs=1, **setting
        ).fit(x, y)
        score = _oob_accuracy(model, y)
        if best is None or score > best[0]:
            best = (score, model)
    return best[1]


def tuned_boosting(x: np.ndarray, y: np.ndarray, seed: int) -> HistGradientBoostingClassifier:
    """Gradient boosting of the grid setting with the best 3-fold accuracy, refitted on all."""
    counts = np.bincount(y)
    folds = min(3, int(counts[counts > 0].min()))
    with threadpool_limits(1, user_api="openmp"):
        scores = []
        for setting in BOOSTING_GRID if folds >= 2 else BOOSTING_GRID[:1]:
            if folds < 2:
                scores.append((0.0, setting))
                break
            right = 0
            splitter = StratifiedKFold(folds, shuffle=True, random_state=seed)
            for train, test in splitter.split(x, y):
                model = HistGradientBoostingClassifier(random_state=seed, **setting)
                right += int((model.fit(x[train], y[train]).predict(x[test]) == y[test]).sum())
            scores.append((right / len(y), setting))
        setting = max(scores, key=lambda s: s[0])[1]
        return HistGradientBoostingClassifier(random_state=seed, **setting).fit(x, y)


def examples_only(x: np.ndarray, y: np.ndarray, seed: int) -> HistGradientBoostingClassifier:
    with threadpool_limits(1, user_api="openmp"):
        return HistGradientBoostingClassifier(random_state=seed).fit(x, y)


def predicted(model, x: np.ndarray) -> np.ndarray:
    with threadpool_limits(1, user_api="openmp"):
        return np.asarray(model.predict(x), dtype=np.int64)
