"""A quick retrain keeps its full fit's blend (settings and neighbour encoding) while the
examples and rules are about the same (blend_reuse.py), and chooses again past that."""

from __future__ import annotations

import dataclasses

import numpy as np

from mola.engine.learning import fit
from mola.engine.learning.blend_reuse import KEEP_EXAMPLES, changed_examples
from mola.engine.learning.caching import FitCache
from mola.engine.learning.model import TaughtModel
from mola.engine.learning.snapshot import Snapshot
from tests.engine.learning.learning_kit import (
    FRONT,
    KNEES,
    NONE,
    example,
    predict_one,
    serve_row,
    snapshot,
)
from tests.engine.learning.test_learning_examples import COUNTER, MANY_CONFIRMING, RULE

SETTINGS = ("rule_strength", "bandwidth", "veto_reach", "temperature", "tree_mass")


def _at(revision: int, examples, rules=(RULE,)) -> Snapshot:
    return dataclasses.replace(snapshot(rules=rules, examples=examples), revision=revision)


def _full(cache: FitCache, examples=MANY_CONFIRMING) -> TaughtModel:
    return fit(_at(3, examples), cache=cache)


def _quick(cache: FitCache, examples, rules=(RULE,)) -> TaughtModel:
    return fit(_at(4, examples, rules), cache=cache, trees="reuse")


def _added(n: int) -> list:
    return [example(9_000 + i, FRONT, toss_height_cm=100.0 + i, elbow_angle=90.0) for i in range(n)]


def test_one_more_example_keeps_the_full_fits_blend_and_encoding():
    cache = FitCache()
    full = _full(cache)
    quick = _quick(cache, [*MANY_CONFIRMING, COUNTER])
    assert quick.metrics_["trees"] == {"fresh": False, "fitted_at_revision": 3}
    assert full.metrics_["parameters"]["chosen_at_revision"] is None
    assert quick.metrics_["parameters"]["chosen_at_revision"] == 3
    assert {k: quick.metrics_["parameters"][k] for k in SETTINGS} == {
        k: full.metrics_["parameters"][k] for k in SETTINGS
    }
    assert quick.metrics_["cv_log_loss"] == full.metrics_["cv_log_loss"]
    assert quick.encoder_ is full.encoder_
    # What the examples say is still learned: the counterexample acts at once.
    assert quick.examples_.index.n == len(MANY_CONFIRMING) + 1
    assert predict_one(quick, toss_height_cm=70.0, elbow_angle=150.0) == NONE
    assert predict_one(quick, toss_height_cm=150.0, elbow_angle=60.0) == FRONT


def test_past_one_percent_of_changed_examples_the_blend_is_chosen_again():
    cache = FitCache()
    _full(cache)
    many = int(KEEP_EXAMPLES * len(MANY_CONFIRMING)) + 1  # 3 of 200: no burst refit yet
    quick = _quick(cache, [*MANY_CONFIRMING, *_added(many)])
    assert quick.metrics_["trees"] == {"fresh": False, "fitted_at_revision": 3}
    assert quick.metrics_["parameters"]["chosen_at_revision"] is None
    # Relabelled examples count as changed too.
    flipped = [
        dataclasses.replace(e, label=KNEES if e.label == FRONT else FRONT) if i < many else e
        for i, e in enumerate(MANY_CONFIRMING)
    ]
    assert _quick(cache, flipped).metrics_["parameters"]["chosen_at_revision"] is None
    assert _quick(cache, MANY_CONFIRMING).metrics_["parameters"]["chosen_at_revision"] == 3


def test_rules_added_or_edited_past_five_percent_choose_again():
    cache = FitCache()
    _full(cache)
    one_more = (RULE, dataclasses.replace(RULE, id=2))  # 1 rule of 1: far past 5 %
    quick = _quick(cache, MANY_CONFIRMING, rules=one_more)
    assert quick.metrics_["parameters"]["chosen_at_revision"] is None
    relabelled = (dataclasses.replace(RULE, label=KNEES),)  # an edit: 1 rule of 1
    quick = _quick(cache, MANY_CONFIRMING, rules=relabelled)
    assert quick.metrics_["parameters"]["chosen_at_revision"] is None
    assert _quick(cache, MANY_CONFIRMING).metrics_["parameters"]["chosen_at_revision"] == 3


def test_the_blend_travels_with_stored_trees_to_another_process():
    full = _full(FitCache())
    stored = TaughtModel.from_bytes(full.to_bytes())
    cache = FitCache()
    cache.for_schema(snapshot().schema).keep_trees(stored.trees_)
    quick = _quick(cache, [*MANY_CONFIRMING, COUNTER])
    assert quick.metrics_["parameters"]["chosen_at_revision"] == 3
    assert quick.metrics_["parameters"]["bandwidth"] == full.metrics_["parameters"]["bandwidth"]


def test_changed_examples_counts_added_removed_and_relabelled():
    cache = FitCache()
    _full(cache)
    blend = cache.trees.blend
    ids = blend.ids.copy()
    labels = blend.labels.astype(np.int64)
    assert changed_examples(blend, ids, labels) == 0
    labels[:2] = (labels[:2] + 1) % 3
    assert changed_examples(blend, ids, labels) == 2
    moved = np.append(blend.labels[1:], 0)  # one removed, one added
    assert changed_examples(blend, np.append(ids[1:], 99_999), moved) == 2


def test_a_pool_that_only_measured_the_rules_keeps_the_blend():
    # Beyond 20 examples the pool's counts are measured, not used (pool.py): the blend's
    # choice is the one without the pool, so a quick retrain keeps it all the same.
    pool = tuple(
        serve_row(toss_height_cm=float(h), elbow_angle=float(a))
        for h in range(0, 200, 10)
        for a in range(40, 160, 20)
    )
    cache = FitCache()
    full = fit(dataclasses.replace(_at(3, MANY_CONFIRMING), pool=pool), cache=cache)
    assert full.metrics_["pool"]["cases"] and not full.metrics_["pool"]["rules_kept"]
    quick = fit(
        dataclasses.replace(_at(4, [*MANY_CONFIRMING, COUNTER]), pool=pool),
        cache=cache,
        trees="reuse",
    )
    assert quick.metrics_["parameters"]["chosen_at_revision"] == 3
