"""Measuring a fitted model: the ``metrics_`` a fit leaves on it.

Owns the scores on the evaluation examples (accuracy, macro F1, calibration — a seeded
sample beyond a budget), the held-out figures of the settings' choice, the counts of what
took part (and what the unlabelled pool did), which forest is in use, the per-rule facts and the chosen parameters.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from mola.engine.learning.arrays import table_take
from mola.engine.learning.fitting import Parts
from mola.engine.learning.model import TaughtModel
from mola.engine.learning.preparation import Prepared
from mola.engine.learning.scoring import expected_calibration_error, macro_f1
from mola.engine.learning.snapshot import ExampleSpec, Snapshot
from mola.engine.table import Table

if TYPE_CHECKING:
    from mola.engine.learning.training import LearningParams


def fit_metrics(
    model: TaughtModel,
    snapshot: Snapshot,
    prep: Prepared,
    parts: Parts,
    choice: dict[str, Any],
    *,
    rng: np.random.Generator,
    params: LearningParams,
    trees: Literal["fit", "reuse"],
) -> dict[str, Any]:
    """The model's ``metrics_`` (without the timings, which the caller adds)."""
    example_trees = parts.example_trees
    return {
        **_evaluation_metrics(
            model, prep.evaluation, prep.evaluation_table, rng, params, prep.evaluation_masks
        ),
        "cv_accuracy": choice["cv_accuracy"],
        "cv_log_loss": choice["cv_log_loss"],
        "ece": choice["ece"],
        "n_cv": choice["n_cv"],
        "n_rules": len(prep.rules),
        "n_concepts": len(prep.concepts),
        "n_examples": len(prep.training),
        "n_evaluation": len(prep.evaluation),
        "n_precedences": len(prep.winners),
        "pool": {**parts.pool_summary, "texts": parts.text_pool},
        "teaching_revision": snapshot.revision,
        "trees": {
            "fresh": trees == "fit",
            "fitted_at_revision": example_trees.revision if example_trees is not None else None,
        },
        "rules": [
            {
                "id": int(rule.id),
                "coverage": int(count),
                "agree": round(float(a), 4),
                "disagree": round(float(d), 4),
                "reliability": round(float(rho), 4),
            }
            for rule, count, a, d, rho in zip(
                prep.rules,
                prep.coverage,
                parts.agree,
                parts.disagree,
                parts.reliability,
                strict=True,
            )
        ],
        "parameters": {
            "rule_strength": choice["rule_strength"],
            "bandwidth": round(choice["bandwidth"], 6),
            "veto_reach": None if choice["veto_reach"] is None else round(choice["veto_reach"], 6),
            "temperature": round(choice["temperature"], 6),
            "tree_mass": choice["tree_mass"],
            "text_mass": choice["text_mass"],
            # How the texts were read (text.REPRESENTATIONS), None without a text reader.
            "text_representation": parts.reader.representation.name if parts.reader else None,
            "forest_floor": round(choice["forest_floor"], 6),
            "tree_reach": None,  # the forest's support is by rule coverage (forest.py)
            # The revision of the full fit whose choice a quick retrain kept (blend_reuse.py).
            "chosen_at_revision": choice.get("chosen_at_revision"),
            "coordinate_weights": parts.encoder.describe([c.name for c in prep.concepts]),
        },
    }


def _evaluation_metrics(
    model: TaughtModel,
    evaluation: list[ExampleSpec],
    table: Table,
    rng: np.random.Generator,
    params: LearningParams,
    matched: np.ndarray | None = None,
) -> dict[str, Any]:
    """Accuracy, macro F1 and ECE on the held-out evaluation examples (None when none);
    ``table`` holds their features (``matched``: the matcher's answer on them, if known).
    Beyond the budget a seeded sample is scored, and ``n_evaluation_scored`` says how
    many."""
    n_examples = max(1, model.examples_.index.n)
    scored = min(params.max_evaluation_rows, max(200, params.evaluation_budget // n_examples))
    if len(evaluation) > scored:
        keep = np.sort(rng.choice(len(evaluation), scored, replace=False))
        evaluation = [evaluation[i] for i in keep]
        table = table_take(table, keep)
        matched = matched[:, keep] if matched is not None else None
    if not evaluation or not model.labels_:
        return {
            "accuracy": None,
            "macro_f1": None,
            "evaluation_ece": None,
            "n_evaluation_scored": 0,
        }
    index = {name: i for i, name in enumerate(model.labels_)}
    truth = np.array([index[e.label] for e in evaluation], dtype=np.int64)
    probabilities = model.predict_proba(table, matched=matched)
    predicted = probabilities.argmax(axis=1)
    return {
        "accuracy": round(float((predicted == truth).mean()), 6),
        "macro_f1": _rounded(macro_f1(truth, predicted, len(model.labels_))),
        "evaluation_ece": _rounded(expected_calibration_error(probabilities, truth)),
        "n_evaluation_scored": len(evaluation),
    }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 6)
