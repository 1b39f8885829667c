"""Choosing the blend's settings on held-out rows, and the model built from them.

Owns, after ``fitting.fit_parts`` (``training.fit`` calls them in order): the choice of the
rule strength, bandwidth, forest and text mass and temperature on the selected rows
(``choose_parameters``, which hands the arrays to ``blending.choose_settings``), keeping the
pool's counts in the reliabilities and the texts read with the pool only if the blend's
held-out log loss says so, else weighing Snorkel's end-model recipe against the blend row by
row (``_end_model``, pool.py); each counterexample's veto of the forest (``veto_strengths``);
and the ``TaughtModel`` of the parts with the chosen settings (``assemble``).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from mola.engine.learning.blending import choose_settings
from mola.engine.learning.evidence import reliability, vote_matrix
from mola.engine.learning.fitting import Parts
from mola.engine.learning.model import ExampleTable, RuleTable, TaughtModel
from mola.engine.learning.neighbours import ExampleIndex
from mola.engine.learning.pool import END_MODEL_MARGIN
from mola.engine.learning.preparation import Prepared

if TYPE_CHECKING:
    from mola.engine.learning.training import LearningParams


def choose_parameters(prep: Prepared, parts: Parts, params: LearningParams) -> dict[str, Any]:
    """The blend's settings (rule strength, bandwidth, forest and text mass, temperature)
    and the held-out metrics, chosen on the selected rows (blending.py). When the texts were
    also read with the pool, that reading replaces the plain one in ``parts`` (reader and
    neighbour index) only if the whole blend's held-out log loss is lower (pool.py)."""
    choice = _choose_for(prep, parts, params, parts.index, parts.points, parts.text_out_of_fold)
    if parts.pool_summary["rules_kept"] and choice["cv_log_loss"] is not None:
        choice = _judge_pool_counts(prep, parts, params, choice)
    if parts.pooled_texts is not None:
        pooled_points = parts.encoder.transform(prep.table, prep.held.T, parts.pooled_texts[1])
        pooled_index = ExampleIndex(pooled_points[parts.stored])
        pooled_choice = _choose_for(
            prep, parts, params, pooled_index, pooled_points, parts.pooled_texts[1]
        )
        text_pool = parts.text_pool
        text_pool["blend_log_loss"] = [choice["cv_log_loss"], pooled_choice["cv_log_loss"]]
        text_pool["kept"] = (pooled_choice["cv_log_loss"] or 0) < (choice["cv_log_loss"] or 0)
        if text_pool["kept"]:
            parts.reader, parts.index, choice = parts.pooled_texts[0], pooled_index, pooled_choice
        else:
            choice = _end_model(prep, parts, params, choice, pooled_index, pooled_points)
    return choice


def _end_model(
    prep: Prepared,
    parts: Parts,
    params: LearningParams,
    choice: dict[str, Any],
    pooled_index: ExampleIndex,
    pooled_points: np.ndarray,
) -> dict[str, Any]:
    """Snorkel's end-model recipe as a candidate: the words read with the pool's probable
    labels, with the rules' votes and the neighbours but without the forest (which learned
    from the examples alone), against the blend ``choice``, by a paired per-row comparison
    of their held-out log losses. The candidate stays unless the blend is better by more
    than ``END_MODEL_MARGIN`` standard errors of the per-row differences (pool.py says why).
    Updates ``parts`` when it stays."""
    end = _choose_for(
        prep, parts, params, pooled_index, pooled_points, parts.pooled_texts[1], forest=False
    )
    text_pool = parts.text_pool
    kept, gap = False, None
    if choice["row_losses"] is not None and end["row_losses"] is not None:
        differences = end["row_losses"] - choice["row_losses"]
        spread = float(np.std(differences, ddof=1) / math.sqrt(len(differences)))
        gap = float(np.mean(differences))
        kept = gap <= END_MODEL_MARGIN * spread
        text_pool["end_model"] = {
            "blend_log_loss": [choice["cv_log_loss"], end["cv_log_loss"]],
            "mean_difference": round(gap, 6),
            "standard_error": round(spread, 6),
            "kept": kept,
        }
    if not kept:
        return choice
    parts.reader, parts.index = parts.pooled_texts[0], pooled_index
    parts.example_trees, parts.out_of_fold = None, None
    return end


def _judge_pool_counts(
    prep: Prepared, parts: Parts, params: LearningParams, choice: dict[str, Any]
) -> dict[str, Any]:
    """The pool's counts in the rules' reliabilities stay only if the whole blend's held-out
    log loss is lower with them than without (on the generated worlds with 40 examples the
    rule votes' own check let through counts that cost 1-2 points); else ``parts`` loses
    them and the choice without them is returned."""
    with_pool = parts.agree, parts.disagree
    pool_agree, pool_disagree = parts.pool_counts
    parts.agree, parts.disagree = with_pool[0] - pool_agree, with_pool[1] - pool_disagree
    without = _choose_for(prep, parts, params, parts.index, parts.points, parts.text_out_of_fold)
    summary = parts.pool_summary
    summary["blend_log_loss"] = [without["cv_log_loss"], choice["cv_log_loss"]]
    summary["rules_kept"] = choice["cv_log_loss"] < without["cv_log_loss"]
    if summary["rules_kept"]:
        parts.agree, parts.disagree = with_pool
        return choice
    parts.reliability = reliability(prep.prior, parts.agree, parts.disagree)
    return without


def _choose_for(
    prep: Prepared,
    parts: Parts,
    params: LearningParams,
    index: ExampleIndex,
    points: np.ndarray,
    text: np.ndarray | None,
    forest: bool = True,
) -> dict[str, Any]:
    """``blending.choose_settings`` with the neighbours ``index``/``points`` and the texts'
    out-of-fold probabilities ``text``; ``forest=False``: a blend without the forest."""
    default_bandwidth = params.default_bandwidth * math.sqrt(max(1, len(prep.schema.features)))
    reused = prep.reused
    selected = prep.selected
    return choose_settings(
        params,
        selected,
        prep.fired_selected,
        parts.seen_coverage,
        index,
        parts.stored,
        points,
        prep.y,
        parts.weights,
        prep.rule_labels,
        prep.prior,
        parts.agree,
        parts.disagree,
        prep.strengths,
        parts.label_counts,
        prep.n_labels,
        default_bandwidth,
        parts.out_of_fold if forest else None,
        veto_strengths(parts),
        reused.mass if forest and reused is not None and parts.example_trees is reused else None,
        parts.discount[selected] if parts.discount is not None else None,
        text[selected] if text is not None else None,
    )


def veto_strengths(parts: Parts) -> np.ndarray:
    """Each training row's veto of the forest next to it (blending.tree_evidence): 1 for a
    counterexample, times its author's discount when there is one; 0 for other examples.

    Why the discount: counterexample links are made on wrong examples too (a novice's
    mislabel, a saboteur "refuting" a right rule), and a full veto carved their wrong label
    into a forest that knew better (bench/quality.py, concepts at 500 examples, seed 0: the
    forest alone 1.000 against the truth, the blend 0.980, 18 of 50 counterexamples wrong,
    12 of them by the two authors the forest doubted most). A trusted author's
    counterexample still carves its exception in full."""
    strength = parts.vetoes.astype(np.float64)
    if parts.discount is not None:
        strength *= parts.discount
    return strength


def assemble(
    prep: Prepared, parts: Parts, choice: dict[str, Any], params: LearningParams
) -> TaughtModel:
    """The model of the fitted ``parts`` with the chosen settings."""
    reader, example_trees, stored = parts.reader, parts.example_trees, parts.stored
    if reader is not None:
        reader.mass = choice["text_mass"]
    if example_trees is not None:
        example_trees.mass = choice["tree_mass"]
        example_trees.vetoes = veto_strengths(parts)[stored]
        example_trees.coverage = parts.seen_coverage
    rules, training = prep.rules, prep.training
    return TaughtModel(
        labels=prep.labels,
        matcher=prep.matcher,
        rules=RuleTable(
            ids=np.array([r.id for r in rules], dtype=np.int64),
            labels=prep.rule_labels,
            authors=[r.author for r in rules],
            disputed=np.array([r.disputed for r in rules], dtype=bool),
            reliability=parts.reliability,
            votes=vote_matrix(prep.rule_labels, parts.reliability, prep.strengths, prep.n_labels),
            winners=prep.winners,
            losers=prep.losers,
        ),
        concept_names=[c.name for c in prep.concepts],
        concept_authors=[c.author for c in prep.concepts],
        encoder=parts.encoder,
        examples=ExampleTable(
            index=parts.index,
            ids=prep.ids[stored],
            labels=prep.y[stored],
            weights=parts.weights[stored],
            authors=[training[i].author for i in stored],
            disputed=prep.facts.disputed[~prep.facts.evaluation][stored],
        ),
        label_prior=parts.label_prior,
        rule_strength=choice["rule_strength"],
        prior_strength=params.prior_strength,
        bandwidth=choice["bandwidth"],
        temperature=choice["temperature"],
        neighbours=params.neighbours,
        trees=example_trees if example_trees is not None and example_trees.mass > 0 else None,
        text=reader,  # its probabilities are coordinates of the neighbours, whatever its mass
        forest_floor=choice["forest_floor"],
        veto_reach=choice["veto_reach"],
    )
