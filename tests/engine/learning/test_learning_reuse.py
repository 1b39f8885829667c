"""A retrain that reuses the space's last boosted trees (``fit(…, trees="reuse")``): a valid
model at once, new examples and counterexamples acting through the neighbours, honest
choices, and no trees at all when the last ones do not fit the snapshot."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from mola.engine.learning import LearningParams, fit, forest
from mola.engine.learning.caching import FitCache
from mola.engine.learning.forest import FOREST_GRID, FitCancelled
from mola.engine.learning.forest_reuse import reuse_candidates
from mola.engine.learning.model import TaughtModel
from tests.engine.learning.learning_kit import FRONT, NONE, concept, predict_one, rows, snapshot
from tests.engine.learning.test_learning_examples import COUNTER, MANY_CONFIRMING, RULE


def _fitted(cache: FitCache, revision: int = 3, **parts) -> TaughtModel:
    return fit(dataclasses.replace(snapshot(**parts), revision=revision), cache=cache)


def _reused(cache: FitCache, revision: int = 4, **parts) -> TaughtModel:
    at = dataclasses.replace(snapshot(**parts), revision=revision)
    return fit(at, cache=cache, trees="reuse")


def test_a_retrain_reuses_the_trees_and_says_so():
    cache = FitCache()
    first = _fitted(cache, rules=[RULE], examples=MANY_CONFIRMING[:-1])
    assert first.trees_ is not None and cache.trees is first.trees_
    assert first.metrics_["trees"] == {"fresh": True, "fitted_at_revision": 3}

    again = _reused(cache, rules=[RULE], examples=MANY_CONFIRMING)
    assert again.trees_ is not None and again.trees_.model is first.trees_.model
    assert again.metrics_["trees"] == {"fresh": False, "fitted_at_revision": 3}
    # The blend the trees were fitted with is kept; the rest is chosen again.
    kept = ("tree_mass", "tree_reach")
    assert {k: again.metrics_["parameters"][k] for k in kept} == {
        k: first.metrics_["parameters"][k] for k in kept
    }
    assert again.metrics_["n_examples"] == len(MANY_CONFIRMING) and again.metrics_["n_cv"] > 0
    probabilities = again.predict_proba(rows({"toss_height_cm": 150.0}, {"toss_height_cm": 5.0}))
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0)
    assert predict_one(again, toss_height_cm=150.0, elbow_angle=100.0) == FRONT
    assert cache.trees is first.trees_  # a reuse leaves the fitted trees as they were


def test_a_counterexample_acts_at_once_next_to_reused_trees():
    cache = FitCache()
    _fitted(cache, rules=[RULE], examples=MANY_CONFIRMING)
    model = _reused(cache, rules=[RULE], examples=[*MANY_CONFIRMING, COUNTER])
    assert model.trees_ is not None and model.trees_.vetoes.sum() == 1
    assert predict_one(model, toss_height_cm=70.0, elbow_angle=150.0) == NONE
    assert predict_one(model, toss_height_cm=71.0, elbow_angle=151.0) == NONE
    assert predict_one(model, toss_height_cm=150.0, elbow_angle=60.0) == FRONT


def test_without_fitted_trees_a_retrain_has_none():
    model = _reused(FitCache(), rules=[RULE], examples=MANY_CONFIRMING)
    assert model.trees_ is None
    assert model.metrics_["trees"] == {"fresh": False, "fitted_at_revision": None}
    assert model.metrics_["parameters"]["tree_mass"] == 0.0
    assert predict_one(model, toss_height_cm=150.0, elbow_angle=100.0) == FRONT


def test_trees_that_read_a_concept_since_removed_are_not_reused():
    cache = FitCache()
    first = _fitted(cache, rules=[RULE], examples=MANY_CONFIRMING, concepts=[concept()])
    assert first.trees_ is not None and first.trees_.concept_keys  # they read high_toss
    kept = _reused(cache, rules=[RULE], examples=MANY_CONFIRMING, concepts=[concept()])
    assert kept.trees_ is not None
    gone = _reused(cache, rules=[RULE], examples=MANY_CONFIRMING)
    assert gone.trees_ is None and gone.metrics_["trees"]["fitted_at_revision"] is None


def test_reused_trees_are_judged_only_on_rows_they_did_not_learn():
    # 40 held-out rows of 200: the forest sees all 200 and keeps the 40 rows' out-of-bag
    # probabilities; an example added since is judged by its prediction.
    params = LearningParams(max_selection_rows=40)
    cache = FitCache()
    fit(snapshot(examples=MANY_CONFIRMING), cache=cache, params=params)
    trees = cache.trees
    added = dataclasses.replace(MANY_CONFIRMING[0], id=9_999)
    ids = np.array([e.id for e in [*MANY_CONFIRMING, added]], dtype=np.int64)
    judged = set(ids[reuse_candidates(trees, ids)].tolist())
    assert len(trees.fitted_ids) == 200 and len(trees.calibration_ids) == 40
    assert judged == set(trees.calibration_ids.tolist()) | {9_999}


def test_stored_trees_can_be_reused_by_another_process():
    first = _fitted(FitCache(), rules=[RULE], examples=MANY_CONFIRMING)
    stored = TaughtModel.from_bytes(first.to_bytes())
    cache = FitCache()
    cache.for_schema(snapshot().schema).keep_trees(stored.trees_)
    model = _reused(cache, rules=[RULE], examples=[*MANY_CONFIRMING, COUNTER])
    assert model.metrics_["trees"] == {"fresh": False, "fitted_at_revision": 3}
    assert predict_one(model, toss_height_cm=70.0, elbow_angle=150.0) == NONE
    # Older trees never replace newer ones.
    older = _fitted(FitCache(), revision=2, rules=[RULE], examples=MANY_CONFIRMING)
    cache.keep_trees(older.trees_)
    assert cache.trees.revision == 3


# Asked before the forest, between the forests of its settings (forest.FOREST_GRID), and
# before a refit with authors' discounts.
@pytest.mark.parametrize("stop_at", [1, 2, 3, 4])
def test_a_fit_is_cancelled_between_its_tree_fits(stop_at):
    asked = []

    def cancelled() -> bool:
        asked.append(True)
        return len(asked) == stop_at

    with pytest.raises(FitCancelled):
        fit(snapshot(examples=MANY_CONFIRMING), cancelled=cancelled)
    assert len(asked) == stop_at


def test_a_cancellable_fit_that_goes_on_learns_the_same_model():
    asked = []
    whole = fit(snapshot(rules=[RULE], examples=MANY_CONFIRMING))
    in_parts = fit(
        snapshot(rules=[RULE], examples=MANY_CONFIRMING), cancelled=lambda: asked.append(1)
    )
    assert len(asked) >= len(FOREST_GRID)
    probe = rows(*({"toss_height_cm": t, "elbow_angle": 60.0 + t} for t in range(0, 200, 7)))
    np.testing.assert_array_equal(in_parts.predict_proba(probe), whole.predict_proba(probe))


def test_a_quick_retrain_after_a_burst_on_a_small_space_fits_its_forest_again():
    cache = FitCache()
    first = _fitted(cache, rules=[RULE], examples=MANY_CONFIRMING[:180])
    # 20 of 200 examples came since (a burst): the forest is fitted again with the setting
    # and the authors' discounts kept, and says it was fitted at this revision.
    burst = _reused(cache, rules=[RULE], examples=MANY_CONFIRMING)
    assert burst.trees_ is not None and burst.trees_.model is not first.trees_.model
    assert burst.trees_.setting == first.trees_.setting
    assert burst.metrics_["trees"] == {"fresh": False, "fitted_at_revision": 4}
    assert len(burst.trees_.fitted_ids) == len(MANY_CONFIRMING)
    assert cache.trees is first.trees_  # the refine still fits the space's trees afresh
    # One example since (under 5 %): the trees are reused as they are.
    one = _reused(cache, rules=[RULE], examples=MANY_CONFIRMING[:181])
    assert one.trees_ is not None and one.trees_.model is first.trees_.model


def test_below_few_rows_the_refine_fits_more_trees_than_a_quick_retrain():
    cache = FitCache()
    first = _fitted(cache, rules=[RULE], examples=MANY_CONFIRMING[:60])
    # Few examples: the full fit's forest is the steadier one (forest.FEW_ROWS_TREES) ...
    assert len(first.trees_.model.estimators_) == forest.FEW_ROWS_TREES
    # ... a quick retrain after a burst refits with FOREST_TREES (fast; the refine follows).
    burst = _reused(cache, rules=[RULE], examples=MANY_CONFIRMING[:70])
    assert burst.trees_.model is not first.trees_.model
    assert len(burst.trees_.model.estimators_) == forest.FOREST_TREES
    assert burst.trees_.setting == first.trees_.setting
    # From FEW_ROWS examples on, FOREST_TREES in both.
    many = _fitted(FitCache(), rules=[RULE], examples=MANY_CONFIRMING[: forest.FEW_ROWS + 10])
    assert len(many.trees_.model.estimators_) == forest.FOREST_TREES
