"""The example side when examples are many: boosted trees over the examples, blended into the
counts where examples are near.

Kernel neighbours alone learn slowly: on bench/quality.py they reached 0.805 with 2,000
examples where gradient boosting on the same examples reached 0.936 (the truth there is a
decision list of boxes, which trees cut and a distance blurs). So the examples also fit a
gradient-boosted tree ensemble (scikit-learn's HistGradientBoostingClassifier), and its
probabilities join the pseudo-counts:

    counts(x) = s · teaching(x) + kernel(x) + c · support(x) · p(x)
    p(x) = (1 − veto(x)) · p_trees(x) + veto(x) · [label of the nearest counterexample]

- What the trees see, per case: its feature values (a missing number as missing, a
  category one-hot: scikit-learn's native categories re-encode the columns on every call,
  which costs more than a small prediction), the concepts the encoder kept, and per label
  the votes of the rules that fire there at their *authors'* reliability (the expertise
  prior). Not the reliability learned from these same examples: that would leak each
  example's own label into its features. With the rules' votes as features the trees learn
  where each kind of rule is right, which is what lifts MOLA above trees on examples alone
  when examples are few (bench/quality.py, 200 examples, 5 seeds: the trees alone scored
  0.83 with the votes among their features and 0.72 without).
- ``support(x) = exp(−d²/2R²)``, d the distance to the nearest stored example, cut at three
  R like the kernel: far from every example the trees are silent and the rules speak
  (principle 1 of the package docstring), however confident the trees would be there.
  R is fixed at ``TREE_REACH`` typical distances between neighbouring examples, not chosen:
  the held-out rows all lie among examples, so their log loss cannot tell how far the trees
  should be trusted beyond them (it always asked for more).
- Next to a counterexample the trees give way to it. Trees average a lone example away; a
  counterexample is a deliberate "not here", so within the kernel's reach of one, p_trees
  is replaced by its label in proportion to its kernel weight ``veto(x)`` (all of it at
  the counterexample itself): the exception is carved with the whole weight of the
  example side there (principle 2), and across the rest of the rule's region nothing
  changes.
- The mass c is chosen with the rule strength s and the bandwidth h, by log loss on
  out-of-fold tree probabilities at the held-out selection rows (``choose``). c = 0 is on
  the grid: where the trees do not help, calibration turns them off.

Cost: the trees fit on at most ``MAX_TREE_ROWS`` examples (a seeded sample beyond), on one
thread (OpenMP threads spin on a busy machine and made fits 20× slower here); and they
predict on one thread through ``_raw_predict`` — the public ``predict_proba`` has no thread
setting, and limiting threads around each call costs more than a one-row prediction. A few
rows (the predict endpoint) skip scikit-learn altogether: its per-tree call overhead is ~6 µs
× hundreds of trees, so ``_FlatTrees`` walks every tree at once in numpy, level by level,
with scikit-learn's own rule (a test checks they agree).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from mola.engine.learning.arrays import row_slices
from mola.engine.learning.evidence import suppress_losers, vote_matrix
from mola.engine.learning.matching import Matcher
from mola.engine.learning.scoring import log_loss
from mola.engine.schema import Schema
from mola.engine.table import Table

MIN_TREE_EXAMPLES = 50  # fewer, and the kernel alone speaks (trees need leaves of 20)
MAX_TREE_ROWS = 20_000
FOLDS = 2  # 3 gave the same accuracy on bench/quality.py for a fifth more fit time
ROWS_PER_MATCH = 8192
SMALL_BATCH = 64  # rows up to which the numpy walk beats scikit-learn's per-tree calls
# Candidates for the trees' pseudo-count mass c; their reach R in typical distances from an
# example to its nearest other example.
TREE_MASSES = (0.0, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0)
TREE_REACH = 2.0
# 50 rounds at 0.2 rather than 100 at 0.1: the same accuracy on bench/quality.py (±0.003 over
# 5 seeds), half the fit time and half the trees. 31 leaves (the default) and 255 bins: 15
# leaves or 63 bins cost 1–2 points on the 8-label bench/synthetic.py worlds.
TREE_SETTINGS: dict[str, Any] = {"max_iter": 50, "learning_rate": 0.2}
EARLY_STOPPING_ROWS = 10_000
CANCEL_PARTS = 3  # parts of a cancellable fit's rounds (each costs another binning)


class FitCancelled(Exception):
    """``fit``'s ``cancelled`` callback said stop (checked before each ensemble is fitted)."""


class ExampleTrees:
    """The fitted ensemble and what it needs to turn a case into its features."""

    # What a later fit of the space needs to reuse these trees (``reusable_trees``), set by
    # training; artefacts stored before reuse existed have the defaults and are never reused.
    revision: int | None = None  # the teaching revision they were fitted at
    label_names: tuple[str, ...] = ()
    concept_keys: tuple[tuple[int, str], ...] = ()  # (id, condition text) per concept column
    fitted_ids = np.zeros(0, dtype=np.int64)  # sorted ids of the examples the final fit saw
    # Out-of-fold probabilities at the calibration rows (sorted ids), to choose on again.
    calibration_ids = np.zeros(0, dtype=np.int64)
    calibration_probabilities = np.zeros((0, 0))

    def __init__(
        self,
        schema: Schema,
        concepts: np.ndarray,
        prior_votes: np.ndarray,
        n_labels: int,
    ) -> None:
        self.features = [(f.name, f.kind, len(f.choices)) for f in schema.features]
        self.concepts = np.asarray(concepts, dtype=np.int64)
        self.prior_votes = prior_votes.astype(np.float32)  # (rules, labels)
        self.n_labels = n_labels
        self.model = None
        self.only_label: int | None = None  # when every fitted example had one label
        # Set by training once chosen: the blend, and which stored examples are
        # counterexamples (aligned with the model's ExampleTable).
        self.mass = 0.0
        self.reach = math.inf
        self.vetoes = np.zeros(0, dtype=bool)
        self._flat: _FlatTrees | None = None

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_flat"] = None  # derived from the model in milliseconds
        return state

    def encode(self, table: Table, fired: np.ndarray, held: np.ndarray) -> np.ndarray:
        """(rows, features) float32: values, kept concepts, prior-weighted rule votes.
        ``fired`` (rules, rows) after precedence, ``held`` (concepts, rows)."""
        parts = []
        for name, kind, n_choices in self.features:
            column = table.column(name)
            if kind == "category":  # one column per choice; an unknown choice is all zeros
                parts += [column == code for code in range(n_choices)]
            else:
                parts.append(column)
        parts += [held[c] for c in self.concepts.tolist()]
        votes = (
            fired.T.astype(np.float32) @ self.prior_votes
            if len(self.prior_votes)
            else np.zeros((table.n_rows, self.n_labels), dtype=np.float32)
        )
        if not parts:
            return votes
        return np.hstack([np.column_stack(parts).astype(np.float32), votes])

    def fit(
        self,
        x: np.ndarray,
        y: np.ndarray,
        seed: int,
        *,
        quick: bool = False,
        cancelled: Callable[[], bool] | None = None,
    ) -> ExampleTrees:
        """Fit on every example alike: the expertise and dispute weights count in the kernel
        and the reliabilities; given to the trees they changed nothing measurable on
        bench/quality.py and made scikit-learn find each bin edge by a weighted percentile
        of its own (1.5 s of a 10,000-example fit).

        ``quick``: stop early on a tenth held out, for the fold ensembles, which only
        calibrate (about a third of the rounds at 1,000 examples; the same accuracy on
        bench/quality.py, S fit CPU 2.1 → 1.3 s).

        ``cancelled``: asked between parts of the rounds when the fit runs them all (no early
        stopping: M's 2 s ensemble), so a refine gives way to a newer revision within a
        part; scikit-learn's warm start continues exactly where it stopped (the same trees:
        a test checks), at the cost of binning the data again per part (~0.07 s at M)."""
        labels = np.unique(y)
        if len(labels) < 2:
            self.only_label = int(labels[0])
            return self
        from sklearn.ensemble import HistGradientBoostingClassifier
        from threadpoolctl import threadpool_limits

        # Early stopping holds out a stratified tenth: every label needs two examples, and
        # the tenth one of each (else scikit-learn refuses to split). Beyond 10,000 examples
        # it is on anyway (scikit-learn's "auto").
        counts = np.bincount(y)
        stoppable = counts[counts > 0].min() >= 2 and len(y) // 10 >= len(labels)
        stopping = (quick or len(y) > EARLY_STOPPING_ROWS) and stoppable
        model = HistGradientBoostingClassifier(
            random_state=seed, early_stopping=stopping, **TREE_SETTINGS
        )
        with threadpool_limits(1, user_api="openmp"):
            if cancelled is None or stopping:
                self.model = model.fit(x, y)
                return self
            rounds = TREE_SETTINGS["max_iter"]
            model.set_params(warm_start=True)
            for part in range(1, CANCEL_PARTS + 1):
                if part > 1:
                    _go_on(cancelled)
                model.set_params(max_iter=math.ceil(rounds * part / CANCEL_PARTS))
                model.fit(x, y)
            self.model = model.set_params(warm_start=False)
        return self

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        """(rows, n_labels) tree probabilities; labels never seen in fitting get 0."""
        out = np.zeros((len(x), self.n_labels))
        if self.only_label is not None:
            out[:, self.only_label] = 1.0
        elif self.model is not None and len(x) > SMALL_BATCH:
            raw = self.model._raw_predict(x, n_threads=1)
            out[:, self.model.classes_] = self.model._loss.predict_proba(raw)
        elif self.model is not None and len(x):
            if self._flat is None:
                self._flat = _FlatTrees(self.model)
            out[:, self.model.classes_] = self._flat.probabilities(x)
        return out


class _FlatTrees:
    """Every tree of a fitted HistGradientBoostingClassifier in flat arrays, walked for all
    trees and rows at once with scikit-learn's rule (``_predictor.pyx``, numeric features):
    a missing value goes where the split sends missing values, a number left when at most
    the threshold."""

    def __init__(self, model) -> None:
        predictors = [tree for iteration in model._predictors for tree in iteration]
        sizes = np.array([len(tree.nodes) for tree in predictors])
        starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        nodes = np.concatenate([tree.nodes for tree in predictors])
        offsets = np.repeat(starts, sizes)
        self.roots = starts
        self.per_iteration = model.n_trees_per_iteration_
        self.baseline = model._baseline_prediction.reshape(-1)
        self.leaf = nodes["is_leaf"].astype(bool)
        self.value = nodes["value"]
        self.feature = nodes["feature_idx"].astype(np.int64)
        self.threshold = nodes["num_threshold"]
        self.missing_left = nodes["missing_go_to_left"].astype(bool)
        self.left = nodes["left"].astype(np.int64) + offsets
        self.right = nodes["right"].astype(np.int64) + offsets

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        rows = np.arange(len(x))[:, None]
        node = np.broadcast_to(self.roots, (len(x), len(self.roots))).copy()
        while True:
            inner = ~self.leaf[node]
            if not inner.any():
                break
            value = x[rows, self.feature[node]]
            left = np.where(np.isnan(value), self.missing_left[node], value <= self.threshold[node])
            node = np.where(inner, np.where(left, self.left[node], self.right[node]), node)
        raw = self.value[node].reshape(len(x), -1, self.per_iteration).sum(axis=1)
        raw += self.baseline
        if self.per_iteration == 1:  # two labels: one logit
            positive = 1 / (1 + np.exp(-raw[:, 0]))
            return np.column_stack([1 - positive, positive])
        raw -= raw.max(axis=1, keepdims=True)
        exp = np.exp(raw)
        return exp / exp.sum(axis=1, keepdims=True)


def prior_vote_matrix(
    rule_labels: np.ndarray, prior: np.ndarray, strengths: np.ndarray, n_labels: int
) -> np.ndarray:
    """Each rule's votes at its author's prior reliability (no example's label in it)."""
    trust = prior[:, 0] / prior.sum(axis=1) if len(prior) else np.zeros(0)
    return vote_matrix(rule_labels, trust, strengths, n_labels)


def fit_trees(
    schema: Schema,
    matcher: Matcher,
    table: Table,
    winners: np.ndarray,
    losers: np.ndarray,
    y: np.ndarray,
    prior_votes: np.ndarray,
    concepts: np.ndarray,
    n_labels: int,
    selected: np.ndarray,
    seed: int,
    ids: np.ndarray,
    cancelled: Callable[[], bool] | None = None,
) -> tuple[ExampleTrees | None, np.ndarray | None]:
    """The ensemble and its out-of-fold probabilities at the ``selected`` rows (None, None
    when examples are too few to fit or to choose the blend on).

    When the selection is a small part of the examples, one ensemble fitted without the
    selected rows serves both; otherwise each of ``FOLDS`` folds of the selection gets an
    ensemble fitted without it, and the final one sees every example. ``ids``: the
    examples' ids, to remember which the final ensemble saw. ``cancelled`` is asked before
    each ensemble is fitted; when it says so, ``FitCancelled`` is raised.
    """
    n = len(y)
    if n < MIN_TREE_EXAMPLES or n_labels < 2 or not len(selected):
        return None, None
    rng = np.random.default_rng(seed)
    trees = ExampleTrees(schema, concepts, prior_votes, n_labels)
    is_selected = np.zeros(n, dtype=bool)
    is_selected[selected] = True
    single = 4 * len(selected) <= n
    pool = np.flatnonzero(~is_selected) if single else np.arange(n)
    if len(pool) > MAX_TREE_ROWS:
        pool = np.sort(rng.choice(pool, MAX_TREE_ROWS, replace=False))
    rows = np.union1d(pool, selected)
    x_rows = _encode_rows(trees, matcher, table, rows, winners, losers)
    position = np.searchsorted(rows, pool)  # where each row's features are in x_rows
    at_selected = np.searchsorted(rows, selected)
    trees.fitted_ids = np.sort(ids[pool])
    if single:
        _go_on(cancelled)
        trees.fit(x_rows[position], y[pool], seed, cancelled=cancelled)
        return trees, trees.probabilities(x_rows[at_selected])
    out_of_fold = np.zeros((len(selected), n_labels))
    fold_of = rng.permutation(len(selected)) % FOLDS
    for fold in range(FOLDS):
        left_out = selected[fold_of == fold]
        keep = ~np.isin(pool, left_out)
        fold_trees = ExampleTrees(schema, concepts, prior_votes, n_labels)
        _go_on(cancelled)
        fold_trees.fit(x_rows[position[keep]], y[pool[keep]], seed, quick=True)
        out_of_fold[fold_of == fold] = fold_trees.probabilities(
            x_rows[at_selected[fold_of == fold]]
        )
    _go_on(cancelled)
    trees.fit(x_rows[position], y[pool], seed, cancelled=cancelled)
    return trees, out_of_fold


def _go_on(cancelled: Callable[[], bool] | None) -> None:
    if cancelled is not None and cancelled():
        raise FitCancelled


def reusable_trees(
    previous: ExampleTrees | None,
    schema: Schema,
    concept_keys: list[tuple[int, str]],
    prior_votes: np.ndarray,
) -> ExampleTrees | None:
    """``previous`` (a fit of the same space) ready for this fit, or None when its inputs no
    longer exist: another schema or labels, or a concept column it reads is gone or changed.

    Rules may come and go: the trees read the rules' votes summed per label, so the copy
    takes this fit's rules (``prior_votes``) and the trees read them as they read the old
    ones. ``concept_keys``: (id, condition text) of this fit's concepts, in matcher order.
    """
    if previous is None or previous.revision is None:
        return None
    features = [(f.name, f.kind, len(f.choices)) for f in schema.features]
    if previous.features != features or previous.label_names != schema.label_names:
        return None
    position = {key: i for i, key in enumerate(concept_keys)}
    if any(key not in position for key in previous.concept_keys):
        return None
    trees = copy.copy(previous)  # shares the fitted ensemble, which nothing changes
    trees._flat = previous._flat
    trees.concepts = np.array([position[key] for key in previous.concept_keys], dtype=np.int64)
    trees.prior_votes = prior_votes.astype(np.float32)
    return trees


def reuse_candidates(trees: ExampleTrees, ids: np.ndarray) -> np.ndarray:
    """Rows (positions in ``ids``, the training examples' ids) where reused trees can be
    judged honestly: the final ensemble never saw them (examples added since, or left out
    of its fit), or their out-of-fold probability was kept from the fit."""
    unseen = ~np.isin(ids, trees.fitted_ids)
    return np.flatnonzero(unseen | np.isin(ids, trees.calibration_ids))


def reused_out_of_fold(
    trees: ExampleTrees,
    matcher: Matcher,
    table: Table,
    winners: np.ndarray,
    losers: np.ndarray,
    ids: np.ndarray,
    selected: np.ndarray,
) -> np.ndarray:
    """Held-out probabilities of reused trees at the ``selected`` rows (taken among
    ``reuse_candidates``): their predictions where they never saw the row, the kept
    out-of-fold probability where they did. A kept one reads the rule votes as they were
    at the fit: a rule added since does not move it (it moves the trees' other rows)."""
    x = _encode_rows(trees, matcher, table, selected, winners, losers)
    out = trees.probabilities(x)
    seen = np.isin(ids[selected], trees.fitted_ids)
    if seen.any():
        at = np.searchsorted(trees.calibration_ids, ids[selected][seen])
        out[seen] = trees.calibration_probabilities[at]
    return out


def _encode_rows(
    trees: ExampleTrees,
    matcher: Matcher,
    table: Table,
    rows: np.ndarray,
    winners: np.ndarray,
    losers: np.ndarray,
) -> np.ndarray:
    """Tree features of the table's ``rows``, matched in blocks (all rules × 20,000 rows
    at once would be 40 MB of booleans)."""
    parts = []
    for block in row_slices(len(rows), ROWS_PER_MATCH):
        picked = rows[block]
        part = Table(
            columns={name: column[picked] for name, column in table.columns.items()},
            n_rows=len(picked),
        )
        fired, held = matcher.match(part)
        fired = suppress_losers(fired, winners, losers)
        parts.append(trees.encode(part, fired, held))
    return np.vstack(parts)


def tree_evidence(
    probabilities: np.ndarray,
    found: np.ndarray,
    squared: np.ndarray,
    vetoes: np.ndarray,
    labels: np.ndarray,
    bandwidth: float,
    mass: float,
    reach: float,
) -> np.ndarray:
    """(rows, labels) the example side's pseudo-counts beyond the kernel: ``mass`` × support
    × the trees' probabilities, which give way to a counterexample's label next to it.

    ``vetoes`` and ``labels``: which stored examples are counterexamples, and their labels.
    """
    if mass == 0 or not found.shape[1]:
        return np.zeros_like(probabilities)
    nearest = squared[:, 0].astype(np.float64)
    support = np.where(
        (found[:, 0] >= 0) & (nearest <= 9 * reach * reach),
        np.exp(-nearest / (2 * reach * reach)),
        0.0,
    )
    said = probabilities.copy()
    if vetoes.any():
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
    typical: float,
    out_of_fold: np.ndarray | None,
    vetoes: np.ndarray,
    labels: np.ndarray,
    kept: tuple[float, float] | None = None,
) -> tuple[float, float, float, float, np.ndarray]:
    """(strength, bandwidth, mass, reach, counts) of least log loss at the held-out rows.

    ``teaching`` (rows, labels) is the prior plus the rules' votes, ``near`` the kernel
    evidence per candidate bandwidth, ``typical`` the typical distance between neighbouring
    examples; without trees only c = 0 is tried. ``kept``: reused trees' (mass, reach),
    which are then not chosen again.
    """
    best: tuple[float, ...] = (math.inf,)
    masses = TREE_MASSES if out_of_fold is not None else (0.0,)
    reach = typical * TREE_REACH
    if kept is not None and out_of_fold is not None:
        masses, reach = (kept[0],), kept[1]
    for bandwidth, kernel in near.items():
        trees = (
            tree_evidence(out_of_fold, found, squared, vetoes, labels, bandwidth, 1.0, reach)
            if out_of_fold is not None
            else np.zeros_like(teaching)
        )
        for mass in masses:
            for strength in strengths:
                counts = strength * teaching + kernel + mass * trees
                loss = log_loss(counts / counts.sum(axis=1, keepdims=True), truth)
                if loss < best[0] - 1e-12:
                    best = (loss, strength, bandwidth, mass, counts)
    _, strength, bandwidth, mass, counts = best
    return strength, bandwidth, mass, reach, counts
