"""``fit``: a snapshot of teachings → a ``TaughtModel`` with its metrics; ``LearningParams``.

Owns the order of a fit and its settings; each stage lives in its own module and is timed
into ``metrics_["timings"]``:

- preparation.py — the snapshot as arrays (tables, which rules fire and which concepts hold
  on each example, the rows held out to choose settings);
- fitting.py — the parts learned (text reader, neighbour encoding, the forest, the authors'
  discounts, reliabilities, what the unlabelled pool adds: pool.py);
- choosing.py — the choice of the blend's settings on held-out rows (rule strength, kernel
  bandwidth, the forest's mass, temperature: blending.py), the model;
- measuring.py — the metrics (evaluation examples, per-rule facts).

The forest is most of a fit's time, so a retrain may reuse the space's last fitted forest
(``trees="reuse"``) and publish in a fraction of that, a full fit refining it later
(teaching.services.training). What reuse keeps and what it still learns:

- kept: the forest, its mass c and the authors' discounts (chosen when it was fitted); a
  rule added since has no column, so the forest gives way where it fires;
- learned as usual: reliabilities, the neighbours (a new example acts at once through the
  kernel, a counterexample also through its veto of the trees), rule strength, bandwidth
  and temperature — chosen on held-out rows the trees never saw (examples added since, or
  left out of their fit) or whose out-of-fold probabilities the fit kept, so the choice is
  as honest as a full fit's — unless the examples and rules are within 1 % and 5 % of the
  ones the trees' fit chose on: then its rule strength, bandwidth, temperature and
  neighbour encoding are kept too (blend_reuse.py);
- without compatible trees (none yet, another schema, a concept the trees read is gone or
  changed) the retrain has none: kernel and rules, as before the trees came;
- on a small space (up to 1,000 training examples) of which 5 % or more came since the
  trees, a burst, one forest is fitted again with the kept setting and discounts, so the
  new examples are in it and the mass is chosen again (``forest_fitting.quick_refit``).

``metrics_["trees"]`` says which: ``{"fresh": fitted in this fit, "fitted_at_revision": the
teaching revision the trees in use were fitted at, or None}``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np

from mola.engine.learning.blend_reuse import keep_blend, kept, kept_choice
from mola.engine.learning.caching import FitCache
from mola.engine.learning.choosing import assemble, choose_parameters
from mola.engine.learning.fitting import fit_parts
from mola.engine.learning.measuring import fit_metrics
from mola.engine.learning.model import TaughtModel
from mola.engine.learning.parts import follows
from mola.engine.learning.preparation import prepare
from mola.engine.learning.snapshot import Snapshot


@dataclass(frozen=True)
class LearningParams:
    """The learner's settings; the defaults are what MOLA uses."""

    neighbours: int = 8  # examples a prediction may draw on
    prior_strength: float = 0.5  # pseudo-counts of the label prior, in rule-vote units
    # Candidates, chosen on examples (0.25 was the smallest and the usual choice: more below).
    rule_strengths: tuple[float, ...] = (0.0625, 0.125, 0.25, 0.5, 1.0, 2.0)
    default_rule_strength: float = 1.0  # when there are too few examples to choose
    bandwidth_factors: tuple[float, ...] = (0.25, 0.5, 1.0, 2.0, 4.0)  # × typical NN distance
    default_bandwidth: float = 0.1  # × √(number of features), in range-scaled units
    min_examples_to_choose: int = 20
    max_selection_rows: int = 1000  # held-out rows for choosing and for cv metrics
    selection_budget: int = 30_000_000  # query × example distances spent on choosing
    max_evaluation_rows: int = 1000  # evaluation examples scored (a seeded sample beyond)
    # Scoring an evaluation example searches every training example: past this many query ×
    # example distances (about 300 rows at 100,000 examples), fewer are scored.
    evaluation_budget: int = 30_000_000


def fit(
    snapshot: Snapshot,
    *,
    random_state: int = 0,
    params: LearningParams | None = None,
    cache: FitCache | None = None,
    trees: Literal["fit", "reuse"] = "fit",
    cancelled: Callable[[], bool] | None = None,
    threads: int = 1,
) -> TaughtModel:
    """Learn a model from ``snapshot``. Never fails on a degenerate snapshot (no rules, no
    examples, one label…); teachings naming a label outside the schema are left out.

    ``cache``: what the previous fit of the same space left (``caching.py``), kept by the
    caller, so that only what changed since is prepared again; the model is the same.
    ``trees``: "fit" fits the boosted trees afresh (and leaves them in ``cache``); "reuse"
    takes the cache's trees if they fit this snapshot, else goes without (module docstring).
    ``cancelled``: asked before each tree ensemble is fitted and between the parts of a long
    one (forest.py); True raises ``FitCancelled``. ``threads``: the forest's trees fitted
    side by side (the same model, but for float rounding in the out-of-bag sums).

    With a ``cache`` whose last trees were fitted on about as many examples (beyond
    forest.GRID_ROWS), the forest keeps their setting instead of searching the grid again
    (forest_trust.settled_setting): the same model whenever the search would choose the same.
    """
    if trees not in ("fit", "reuse"):
        raise ValueError(f'trees is "fit" or "reuse", not {trees!r}')
    params = params or LearningParams()
    rng = np.random.default_rng(random_state)
    started = time.perf_counter()
    prep = prepare(
        snapshot, params=params, rng=rng, random_state=random_state, cache=cache, trees=trees
    )
    arrays_done = time.perf_counter()

    blend = kept(prep) if trees == "reuse" else None  # the last full fit's (blend_reuse.py)
    parts = fit_parts(
        prep,
        snapshot,
        random_state=random_state,
        trees=trees,
        cache=cache,
        cancelled=cancelled,
        threads=threads,
        encoder=blend.encoder if blend is not None else None,
        # With a pool the blend may yet be chosen (its counts joined the rules): keep them.
        held_out=blend is None or prep.pool is not None,
    )
    pooled = parts.pool_summary["rules_kept"]  # the pool's counts joined the reliabilities
    if blend is not None and parts.example_trees is prep.reused and not pooled:
        choice = kept_choice(blend)
    else:  # may take the pool's texts (pool.py)
        choice = choose_parameters(prep, parts, params)
    if trees == "fit":
        keep_blend(parts.example_trees, prep, parts.encoder, choice, parts.pool_summary)
    model = assemble(prep, parts, choice, params)
    if cache is not None:  # stored as a delta of the last fit's index (parts.py)
        follows(model.examples_.index, cache.index)
        cache.index = model.examples_.index
    fit_done = time.perf_counter()

    model.metrics_ = fit_metrics(
        model, snapshot, prep, parts, choice, rng=rng, params=params, trees=trees
    )
    done = time.perf_counter()
    model.metrics_["timings"] = {
        "snapshot_to_arrays": round(arrays_done - started, 6),
        "fit": round(fit_done - arrays_done, 6),
        "trees": round(parts.trees_seconds, 6),  # of which the forest
        "metrics": round(done - fit_done, 6),
    }
    model.metrics_["training_seconds"] = round(done - started, 6)
    return model
