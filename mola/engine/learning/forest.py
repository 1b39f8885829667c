"""The example side at scale: a random forest over the examples, in which every rule and
every concept is a feature of its own, blended into the counts.

    counts(x) = s · teaching(x) + kernel(x) + c · support(x) · p(x)
    p(x) = (1 − veto(x)) · p_forest(x) + veto(x) · [label of the nearest counterexample]

- What the forest sees, per case: its feature values (a missing number as missing, a
  category one-hot), one 0/1 column per rule (does it fire, after precedence?) and per
  concept (does it hold?), and per label the votes of the firing rules at their *authors'*
  reliability (the expertise prior; never the reliability learned from these examples,
  which would leak each example's label into its own features). A column per rule is what
  lets the trees learn *which* rules are right where: summed per label, a wrong rule and a
  right one with the same label were one column (the issue behind bench/quality.py's
  families). The examples are weighted by their authors' expertise.
- Why a forest (scikit-learn's ``RandomForestClassifier``) and not boosting: it is robust
  with 20 examples as with 20,000 (no learning rate or leaf size to tune per scale), and
  its out-of-bag probabilities are held-out predictions for every example at no extra fit,
  so the blend is chosen on honest predictions without refitting per fold. Where examples
  are 150-4,000 a boosting member fitted on the same columns takes a share of the forest's
  answer chosen out of fold (forest_boost.py: boosting learns interactions of rules the
  forest misses; below, the choice is unreliable; above, too slow for a refine).
- ``support(x)``: the forest gives way to the rules where a rule fires that it has seen on
  fewer than ``SEEN`` training examples — it cannot have learned anything about such a rule,
  so there the teaching speaks (principle 1: a rule where no example is). Measured on rule
  coverage, not on a distance to the nearest example: in 8+ dimensions such a distance is
  large almost everywhere and switched the trees off where they knew best.
- Next to a counterexample the forest gives way to it: within the kernel's reach of one,
  p_forest is replaced by its label in proportion to its kernel weight ``veto(x)`` (all of
  it at the counterexample itself), so the exception is carved locally (principle 2).
- The mass c is chosen with the rule strength s and the bandwidth h by log loss at held-out
  rows (``choose``); c = 0 is on the grid.

Cost: at most ``MAX_TREE_ROWS`` examples (a seeded sample beyond), each tree on a bootstrap
of at most ``MAX_BOOTSTRAP`` of them, one thread. Beyond ``GRID_ROWS`` examples (M and L)
the forest has ``LARGE_TREES`` trees, not ``FOREST_TREES``: a refine at M must be served
within two seconds of the write. On bench/synthetic.py's M worlds 24 trees of 4,000 rows
each score as 100 do (the forest alone within 0.1 point against the truth, the whole model
0.949 -> 0.947 on seed 0), in a quarter of the time and half the artefact (16 trees: an
author's noisier trust crossed ``authors.RELEVANT``, a refit more, 0.5 point lost).

This module owns the trees themselves: ``ExampleTrees`` (fit over the setting grid, encode a
case, answer, with the flat numpy walk for small batches) and the constants that size them.
Around it: fitting a space's forest on its training rows (forest_fitting.py), judging its
authors' trust and when a setting or a trust is settled (forest_trust.py), and reusing the
last fit's trees in a quick retrain (forest_reuse.py). ``ExampleTrees`` stays here: stored
models pickle it by this module's path.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

import numpy as np

from mola.engine.learning.forest_walk import FlatForest
from mola.engine.learning.scoring import log_loss
from mola.engine.schema import Schema
from mola.engine.table import Table

MIN_TREE_EXAMPLES = 20  # fewer, and the kernel alone speaks
MAX_BOOTSTRAP = 4_000  # rows per tree: bounds fit time and the artefact at M and L
MAX_RULE_COLUMNS = 256  # the rules that fire on most training examples get a column
SEEN = 2  # training examples a rule must fire on before the forest speaks where it fires
FOREST_TREES = 100
# The settings tried, best out-of-bag accuracy kept: leaves of 3–5 smooth noisy labels (the
# novice's, the saboteur's), leaves of 1 keep what 50 examples say; half the columns let a
# split find the one rule that matters among many. Beyond GRID_ROWS examples only the first
# LARGE_GRID settings are tried (fit time at M and L).
FOREST_GRID: tuple[dict[str, Any], ...] = (
    {"max_features": 0.5, "min_samples_leaf": 3},
    {"max_features": "sqrt", "min_samples_leaf": 3},
    {"max_features": 0.5, "min_samples_leaf": 5},
    {"max_features": "sqrt", "min_samples_leaf": 1},
)
GRID_ROWS = 4_000
LARGE_GRID = 2
# Below FEW_ROWS examples the settings rank by the labels' mean probability (grid_score),
# forests have FEW_ROWS_TREES trees, and the authors' trust also reads the other authors'
# rules (forest_trust.judged_trust). 400: with eight seeds a bench/quality.py world at 50
# examples moved MOLA's accuracy by sd 1.4-2.3 points with 100 trees, 0.9-1.0 with 400
# (same setting, discounts, blend); a full fit's CPU there 0.8 -> 2.4 s.
FEW_ROWS = 100
FEW_ROWS_TREES = 400
# Beyond GRID_ROWS examples each tree also stops at this many leaves (at most 511 nodes),
# and the forest has LARGE_TREES trees (module docstring: why so few).
LARGE_LEAVES = 256
LARGE_TREES = 24
# A cancellable fit grows each forest this many trees at a time and asks between the parts
# (scikit-learn's warm start: the same forest as in one go), so a refine gives way to a
# teacher's next write within a fraction of a second, not after a whole forest. Two: one
# tree per refine thread. Until it asks, the refine's two threads share the two cores with
# the next write's quick retrain (whose fit took ~1.5× its CPU on a quiet machine): parts of
# 8 trees left up to ~0.8 s between asks at M under load, parts of 2 ~0.25 s, for ~1-2 %
# more refine CPU (1.31-1.42 -> 1.34-1.35 s).
TREES_PER_PART = 2
FEW_ROWS_TREES_PER_PART = 25  # ~25 ms a part; 400 trees on 50 rows in parts of 2: +40 % CPU


# Each fitted forest's flat tables while some trees hold them, by the forest's id (a
# FlatForest holds its forest, so the id stays its own meanwhile): the trees of every quick
# version reuse the refined version's forest (forest_reuse.py), which a web process holds
# once (parts.py), and so its walker and the path tables explanations read (~1 ms and
# ~5-25 ms at M) are built once, not per version.
_walkers: weakref.WeakValueDictionary[int, FlatForest] = weakref.WeakValueDictionary()


class FitCancelled(Exception):
    """``fit``'s ``cancelled`` callback said stop (asked before and during the forest fit)."""


def go_on(cancelled: Callable[[], bool] | None) -> None:
    """Raise ``FitCancelled`` when ``cancelled`` says stop (asked between forests and parts)."""
    if cancelled is not None and cancelled():
        raise FitCancelled


class ExampleTrees:
    """The fitted forest and what it needs to turn a case into its features."""

    # What a later fit of the space needs to reuse these trees (``reusable_trees``), set by
    # training; never reused without them.
    revision: int | None = None  # the teaching revision they were fitted at
    label_names: tuple[str, ...] = ()
    concept_keys: tuple[tuple[int, str], ...] = ()  # (id, condition text) per concept column
    rule_keys: tuple[tuple[int, str], ...] = ()  # (id, condition text) per rule column
    known_rule_keys: tuple[tuple[int, str], ...] = ()  # every rule of the fit, column or not
    unseen = np.zeros(0, dtype=bool)  # per rule of a reusing fit: added since the trees
    fitted_ids = np.zeros(0, dtype=np.int64)  # sorted ids of the examples the forest saw
    # Out-of-bag probabilities at the calibration rows (sorted ids), to choose on again.
    calibration_ids = np.zeros(0, dtype=np.int64)
    calibration_probabilities = np.zeros((0, 0))
    legacy = False  # boosted trees of an artefact stored before the forest: not used
    # How many rows the grid search that chose ``setting`` ran on (0: unknown, search).
    searched_rows = 0
    # Examples per author when ``author_trust`` was learned (None: unknown, learn again).
    trust_counts: dict[str, int] | None = None
    # The boosting member beside the forest (forest_boost.py), None without one.
    booster = None

    def __init__(
        self,
        schema: Schema,
        concepts: np.ndarray,
        rules: np.ndarray,
        n_labels: int,
    ) -> None:
        self.features = [(f.name, f.kind, len(f.choices)) for f in schema.features]
        self.concepts = np.asarray(concepts, dtype=np.int64)  # concept positions read
        self.rules = np.asarray(rules, dtype=np.int64)  # rule positions read (-1: gone)
        self.n_labels = n_labels
        self.model = None
        self.only_label: int | None = None  # when every fitted example had one label
        self.setting: dict[str, Any] = {}  # the FOREST_GRID setting chosen
        self.author_trust: dict[str, float] = {}  # discounts of authors (authors.py)
        # Set by training once chosen: the blend, which stored examples are counterexamples
        # (aligned with the model's ExampleTable), how many training examples each rule
        # fires on (for ``support``).
        self.mass = 0.0
        self.vetoes = np.zeros(0, dtype=bool)
        self.coverage = np.zeros(0)
        self._flat: FlatForest | None = None

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_flat"] = None  # derived from the model in milliseconds
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.legacy = "rules" not in state  # pickled when these were boosted trees
        self._flat = None

    def encode(self, table: Table, fired: np.ndarray, held: np.ndarray) -> np.ndarray:
        """(rows, columns) float32 (column-major): values, concepts, rules. ``fired``
        (rules, rows) after precedence, ``held`` (concepts, rows)."""
        parts = []
        for name, kind, n_choices in self.features:
            if kind == "text":
                continue  # texts are read by the TextReader (text.py), not split by trees
            column = table.column(name)
            if kind == "category":  # one column per choice; an unknown choice is all zeros
                parts += [column == code for code in range(n_choices)]
            else:
                parts.append(column)
        values, concepts = len(parts), len(self.concepts)
        width = values + concepts + len(self.rules)
        if not width:
            return np.zeros((table.n_rows, 1), dtype=np.float32)
        # Filled a column at a time into float32 (column order: each write contiguous), not
        # stacked as float64 and converted: 10,000 rows × ~300 columns in ~1 ms, not ~10;
        # the concepts' and the rules' columns in one gather each (one row: ~650 writes of
        # one value each, ~0.15 ms, were most of it).
        x = np.empty((width, table.n_rows), dtype=np.float32)
        for j, part in enumerate(parts):
            x[j] = part
        x[values : values + concepts] = held[self.concepts]
        rules = x[values + concepts :]
        rules[:] = 0  # a rule gone since the fit never fires
        known = np.flatnonzero(self.rules >= 0)
        rules[known] = fired[self.rules[known]]
        return x.T

    def rule_column(self, n_rules: int, width: int) -> np.ndarray:
        """(n_rules,) the column of ``encode``'s output (``width`` columns; the rules' come
        last) each model rule is read from, -1 for a rule the forest has no column for."""
        column = np.full(n_rules, -1)
        known = np.flatnonzero(self.rules >= 0)
        column[self.rules[known]] = known + width - len(self.rules)
        return column

    def with_rules(self, x: np.ndarray, fired: np.ndarray, was: np.ndarray) -> np.ndarray:
        """``x``, rows ``encode``d from the firing ``was`` (rules, rows), as ``encode`` gives
        them for the firing ``fired`` instead, without encoding their values again: only the
        cells of the rules whose firing differs change. ``x`` is changed in place (pass a
        copy) and returned."""
        rules, rows = np.nonzero(fired != was)
        at = self.rule_column(fired.shape[0], x.shape[1])[rules]
        keep = at >= 0
        x[rows[keep], at[keep]] = fired[rules[keep], rows[keep]]
        return x

    def fit(
        self,
        x: np.ndarray,
        y: np.ndarray,
        seed: int,
        *,
        cancelled: Callable[[], bool] | None = None,
        weights: np.ndarray | None = None,
        settled: tuple[dict[str, Any], int] | None = None,
        threads: int = 1,
        trees: int | None = None,
    ) -> np.ndarray:
        """Fit a forest per ``FOREST_GRID`` setting and keep the one of best out-of-bag
        ``grid_score``; returns its out-of-bag probabilities (rows × n_labels; uniform for a
        row every tree saw). ``cancelled`` is asked between the grid's forests and between
        the parts of each (``_grow``). ``settled``: a setting the grid search already chose
        and the rows it chose on (``settled_setting``), fitted alone. ``weights``: the
        authors' discounts (with the setting chosen before, or the settled one). ``threads``:
        trees fitted side by side (the same forest, but for rounding in its out-of-bag
        sums). ``trees``: the forest's size, else ``FOREST_TREES`` (``FEW_ROWS_TREES`` below
        ``FEW_ROWS`` rows, ``LARGE_TREES`` beyond ``GRID_ROWS``)."""
        labels = np.unique(y)
        if len(labels) < 2:
            self.only_label = int(labels[0])
            out = np.zeros((len(y), self.n_labels))
            out[:, self.only_label] = 1.0
            return out
        from sklearn.ensemble import RandomForestClassifier

        best: tuple | None = None
        grid, n_trees = FOREST_GRID, FOREST_TREES
        if len(y) > GRID_ROWS:
            grid = tuple({**g, "max_leaf_nodes": LARGE_LEAVES} for g in grid[:LARGE_GRID])
            n_trees = LARGE_TREES
        elif len(y) < FEW_ROWS:
            n_trees = FEW_ROWS_TREES
        n_trees = trees or n_trees
        searched = False
        if settled is not None and settled[0] in grid:
            grid = (settled[0],)
            self.searched_rows = settled[1]
        elif weights is not None:  # a refit with authors' discounts: the setting chosen before
            grid = (self.setting,)
        else:
            searched = True
        for i, setting in enumerate(grid):
            if i:
                go_on(cancelled)
            model = RandomForestClassifier(
                n_estimators=n_trees,
                random_state=seed,
                n_jobs=threads,
                max_samples=min(len(y), MAX_BOOTSTRAP),
                oob_score=True,
                **setting,
            )
            _grow(model, x, y, weights, cancelled)
            out = np.zeros((len(y), self.n_labels))
            out[:, model.classes_] = np.nan_to_num(model.oob_decision_function_, nan=0.0)
            out[out.sum(axis=1) == 0] = 1.0 / self.n_labels
            score = grid_score(out, y)
            if best is None or score < best[0]:
                best = (score, model, out, setting)
        _, model, out, self.setting = best
        self.model = _fitted(model)
        if searched:
            self.searched_rows = len(y)
        return out

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        """(rows, n_labels) forest probabilities; labels never seen in fitting get 0."""
        out = np.zeros((len(x), self.n_labels))
        if self.only_label is not None:
            out[:, self.only_label] = 1.0
        elif self.model is not None and len(x):
            walker = self.walker()
            out[:, self.model.classes_] = walker.probabilities(walker.leaves(x))
            if self.booster is not None:
                out = self.booster.mixed(out, self.booster.probabilities(x))
        return out

    def walker(self) -> FlatForest | None:
        """The forest in flat arrays (forest_walk.py), built on first use; None when it
        answers without looking (one label, no model)."""
        if self.model is None or self.only_label is not None:
            return None
        if self._flat is None:
            flat = _walkers.get(id(self.model))
            if flat is None or flat._model is not self.model:
                flat = _walkers[id(self.model)] = FlatForest(self.model)
            self._flat = flat
        return self._flat

    def prepare(self) -> None:
        """Build the walkers' tables that the deciding rules of an explanation read
        (deciding.py). Why ahead: they are reached only when a row fires a voting rule, so a
        warm-up's empty row never built them, and a new version's first explained call
        paid them (~24 ms of ~27 ms CPU for one row at M, against ~3 ms after)."""
        walker = None if self.legacy else self.walker()
        if walker is None:
            return
        walker.prepare()
        if self.booster is not None:
            self.booster.walker().prepare()

    def support(self, fired: np.ndarray) -> np.ndarray:
        """(rows,) 1 where the forest has seen every firing rule on ``SEEN`` examples or
        more, less where a rule it barely saw fires, 0 where one it never saw fires."""
        return rule_support(fired, self.coverage)


def grid_score(out: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """How a grid setting's out-of-bag probabilities ``out`` rank (lower is better): from
    ``FEW_ROWS`` examples by accuracy, then log loss; below, by the mean probability
    given to each row's own label, then log loss.

    Why: on ~45 noisy labels out-of-bag accuracy moves in steps of 2 % and ties, and
    against labels of which a third or more are wrong it cannot rank four settings; log
    loss lets a few confidently "wrong" (mislabelled) rows decide. The mean probability of
    the labels estimates what accuracy does, without its steps, and is bounded as accuracy
    is. Measured on bench/quality.py's worlds 100-109 (README, "Model quality", session 10):
    at 50 examples 12 -> 6 of 40 cells more than a point below the rules-as-features
    forest; at 150 nothing gained, so not from FEW_ROWS."""
    if len(y) < FEW_ROWS:
        quality = float(out[np.arange(len(y)), y].mean())
    else:
        quality = float((out.argmax(axis=1) == y).mean())
    return -quality, log_loss(out, y)


def _grow(model, x, y, weights, cancelled: Callable[[], bool] | None) -> None:
    """Fit the forest ``model`` — in parts of ``TREES_PER_PART`` trees (below ``FEW_ROWS``
    rows ``FEW_ROWS_TREES_PER_PART``), asking ``cancelled`` between them, when there is
    someone to ask. Out-of-bag scores are computed once, with the last part."""
    n_trees = model.n_estimators
    per_part = FEW_ROWS_TREES_PER_PART if len(y) < FEW_ROWS else TREES_PER_PART
    if cancelled is None or n_trees <= per_part:
        model.fit(x, y, sample_weight=weights)
        return
    model.set_params(warm_start=True, oob_score=False)
    for upto in range(per_part, n_trees + per_part, per_part):
        if upto > per_part:
            go_on(cancelled)
        last = upto >= n_trees
        model.set_params(n_estimators=min(upto, n_trees), oob_score=last)
        model.fit(x, y, sample_weight=weights)
    model.set_params(warm_start=False)


def _fitted(model):
    """``model`` as it is stored: predicting with one thread (a web process answers many
    requests at once; the fit's threads were the fit's)."""
    model.set_params(n_jobs=1)
    return model


def rule_columns(coverage: np.ndarray) -> np.ndarray:
    """Positions of the rules that get a forest column: those firing on 2+ training
    examples, the ``MAX_RULE_COLUMNS`` most covering (then by position) beyond that."""
    candidates = np.flatnonzero(coverage >= 2)
    if len(candidates) > MAX_RULE_COLUMNS:
        order = np.lexsort((candidates, -coverage[candidates]))
        candidates = np.sort(candidates[order[:MAX_RULE_COLUMNS]])
    return candidates.astype(np.int64)


def rule_support(fired: np.ndarray, coverage: np.ndarray) -> np.ndarray:
    """min over the rules firing on each row (``fired`` rules × rows) of
    min(1, coverage / SEEN); 1 where no rule fires."""
    if not fired.shape[0]:
        return np.ones(fired.shape[1])
    trust = np.minimum(1.0, np.asarray(coverage, dtype=np.float64) / SEEN)
    low = np.flatnonzero(trust < 1)  # only the barely seen rules can lower a row's support
    if not len(low):
        return np.ones(fired.shape[1])
    return np.where(fired[low], trust[low, None], 1.0).min(axis=0)
