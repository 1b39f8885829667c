"""Fitting the parts of a model on prepared arrays: what is learned from the examples.

Owns ``fit_parts`` (``training.fit`` calls it after preparation): the pool's label model,
the text reader (also read with the pool), the neighbour encoding and index, the forest —
fitted, refitted or reused (forest_fitting.py, forest_reuse.py) —, the authors' discounts
and the rules' reliabilities with what the pool adds. The choice of the blend's settings
on held-out rows and the model built from them: choosing.py.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from mola.engine.learning.caching import FitCache
from mola.engine.learning.encoding import Encoder
from mola.engine.learning.evidence import reliability
from mola.engine.learning.forest import ExampleTrees
from mola.engine.learning.forest_fitting import TreeRows, fit_trees, quick_refit, refit_trees
from mola.engine.learning.forest_reuse import reused_out_of_fold
from mola.engine.learning.neighbours import ExampleIndex, stored_rows
from mola.engine.learning.pool import (
    PoolTexts,
    fit_label_model_on,
    rule_counts,
)
from mola.engine.learning.preparation import Prepared, covered_by
from mola.engine.learning.snapshot import Snapshot
from mola.engine.learning.text import TextReader


@dataclass
class Parts:
    """What ``fit_parts`` learned, before the blend's settings are chosen."""

    reader: TextReader | None
    text_out_of_fold: np.ndarray | None
    encoder: Encoder
    points: np.ndarray  # the training rows in the neighbour space
    label_counts: np.ndarray
    label_prior: np.ndarray
    vetoes: np.ndarray  # which training rows are counterexamples
    stored: np.ndarray  # the training rows the neighbour index keeps
    index: ExampleIndex
    example_trees: ExampleTrees | None
    out_of_fold: np.ndarray | None  # the forest's held-out probabilities at the selected rows
    weights: np.ndarray  # example weights after the authors' discounts
    discount: np.ndarray | None
    agree: np.ndarray
    disagree: np.ndarray
    reliability: np.ndarray
    seen_coverage: np.ndarray  # rule coverage as the forest saw it
    pool_summary: dict[str, Any]  # what the pool's counts did to the rules (pool.py)
    pool_counts: tuple[np.ndarray, np.ndarray]  # (agree, disagree) the pool adds, in the above
    pooled_texts: tuple | None  # (reader, out-of-fold) read with the pool, to choose between
    text_pool: dict[str, Any] | None  # what the pool did to the texts
    trees_seconds: float = 0.0  # the forest's share of the fit (fitted or reused)


def fit_parts(
    prep: Prepared,
    snapshot: Snapshot,
    *,
    random_state: int,
    trees: Literal["fit", "reuse"],
    cache: FitCache | None,
    cancelled: Callable[[], bool] | None,
    threads: int = 1,
    encoder: Encoder | None = None,
    held_out: bool = True,
) -> Parts:
    """Fit the text reader, the neighbour encoding and index, and the forest (or reuse it),
    then the authors' discounts and the rules' reliabilities. ``cache`` keeps the forest
    fitted here (and the last one's setting, while settled, is fitted again without a
    search: forest_trust.settled_setting); ``cancelled`` is asked by the forest
    (``FitCancelled``); ``threads``: the forest's trees fitted side by side. ``encoder``: a
    kept neighbour encoding (blend_reuse.py), not learned again. ``held_out`` False: reused
    trees get no held-out probabilities (only choosing the blend reads them)."""
    n_labels = prep.n_labels
    label_counts = np.bincount(prep.y, minlength=n_labels).astype(np.float64)
    if prep.pool is not None:
        expertise = [r.expertise for r in prep.rules]
        fit_label_model_on(
            prep.pool, expertise, prep.rule_labels, prep.covered, label_counts, n_labels
        )
    reader, text_out_of_fold, pooled_texts, text_pool = _read_texts(prep, random_state)
    if encoder is None:
        encoder = Encoder(prep.schema).fit(prep.table, prep.held.T, prep.y, n_labels)
    points = encoder.transform(prep.table, prep.held.T, text_out_of_fold)
    label_prior = (label_counts + 1) / (len(prep.y) + n_labels) if n_labels else np.zeros(0)

    vetoes = prep.facts.refutes[~prep.facts.evaluation]
    # Beyond a cap the neighbours come from a sample (every counterexample in it): the trees
    # carry what the many examples teach, and predicting stays fast (neighbours.py).
    stored = stored_rows(vetoes, random_state)
    index = ExampleIndex(points[stored])
    trees_started = time.perf_counter()
    example_trees, out_of_fold = _forest(
        prep, snapshot, encoder, random_state, trees, cancelled, cache, threads, held_out
    )
    trees_seconds = time.perf_counter() - trees_started
    if trees == "fit" and cache is not None:
        cache.trees = example_trees
    weights, discount, agree, disagree, pool_summary, pool_counts = _evidence(
        prep, example_trees, label_counts
    )
    seen_coverage = prep.coverage.astype(np.float64)
    if example_trees is not None and example_trees is prep.reused:
        seen_coverage[prep.reused.unseen] = 0.0  # rules added since the trees: never seen
    return Parts(
        reader=reader,
        text_out_of_fold=text_out_of_fold,
        encoder=encoder,
        points=points,
        label_counts=label_counts,
        label_prior=label_prior,
        vetoes=vetoes,
        stored=stored,
        index=index,
        example_trees=example_trees,
        out_of_fold=out_of_fold,
        weights=weights,
        discount=discount,
        agree=agree,
        disagree=disagree,
        reliability=reliability(prep.prior, agree, disagree),
        seen_coverage=seen_coverage,
        pool_summary=pool_summary,
        pool_counts=pool_counts,
        pooled_texts=pooled_texts,
        text_pool=text_pool,
        trees_seconds=trees_seconds,
    )


def _evidence(
    prep: Prepared, example_trees: ExampleTrees | None, label_counts: np.ndarray
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray, np.ndarray, dict[str, Any], tuple]:
    """(weights, discount, agree, disagree, pool summary, pool counts): the examples'
    weights after the authors' discounts (None: no discount), each rule's agreeing and
    disagreeing weighted counts — the examples' (discounted) plus what the pool adds — and
    what the pool adds on its own."""
    n_labels = prep.n_labels
    weights, covered, discount = prep.weights, prep.covered, None
    if example_trees is not None and example_trees.author_trust:
        trust = example_trees.author_trust
        if example_trees is prep.reused and prep.discount is not None:
            discount = prep.discount  # the same trust, worked out while preparing
        else:
            discount = prep.facts.author_values(trust, 1.0, ~prep.facts.evaluation)
        if example_trees is prep.reused and prep.covered_taken is not None:
            covered = covered - prep.covered_taken  # counted while preparing
        else:
            taken = weights * (1 - discount)
            covered = covered - covered_by(
                prep.matcher, prep.table, prep.winners, prep.losers, prep.y, taken, n_labels
            )
        weights = weights * discount
    rule_count = len(prep.rules)
    agree = covered[np.arange(rule_count), prep.rule_labels] if rule_count else np.zeros(0)
    disagree = covered.sum(axis=1) - agree
    selected = prep.selected
    held_out = (prep.fired_selected, prep.y[selected], weights[selected], prep.strengths)
    pool_agree, pool_disagree, pool_summary = rule_counts(
        prep.pool, prep.rule_labels, prep.prior, covered, label_counts, held_out, n_labels
    )
    return (
        weights,
        discount,
        agree + pool_agree,
        disagree + pool_disagree,
        pool_summary,
        (pool_agree, pool_disagree),
    )


def _forest(
    prep: Prepared,
    snapshot: Snapshot,
    encoder: Encoder,
    random_state: int,
    trees: Literal["fit", "reuse"],
    cancelled: Callable[[], bool] | None,
    cache: FitCache | None = None,
    threads: int = 1,
    held_out: bool = True,
) -> tuple[ExampleTrees | None, np.ndarray | None]:
    """The forest and its out-of-fold probabilities at the selected rows: fitted afresh
    ("fit"), the prepared reusable one ("reuse"; without ``held_out``, no probabilities),
    or none."""
    if trees == "fit":
        author_names = sorted({e.author for e in prep.training})
        author_code = {name: i for i, name in enumerate(author_names)}
        authors = np.array([author_code[e.author] for e in prep.training], dtype=np.int64)
        example_trees, out_of_fold = fit_trees(
            _tree_rows(prep, encoder),
            random_state,
            authors,
            author_names,
            cancelled,
            previous=cache.trees if cache is not None else None,
            threads=threads,
        )
        if example_trees is not None:
            _remember_fit(example_trees, snapshot, prep, prep.ids[prep.selected], out_of_fold)
        return example_trees, out_of_fold
    reused = prep.reused
    if reused is not None and len(prep.selected) and quick_refit(reused, prep.ids):
        example_trees, out_of_fold = refit_trees(
            reused,
            _tree_rows(prep, encoder),
            random_state,
            [e.author for e in prep.training],
            cancelled,
        )
        _remember_fit(example_trees, snapshot, prep, prep.ids[prep.selected], out_of_fold)
        return example_trees, out_of_fold
    if reused is not None and reused.mass > 0 and len(prep.selected) and not reused.only_label:
        if not held_out:
            return reused, None
        out_of_fold = reused_out_of_fold(
            reused, prep.table, prep.fired_selected, prep.held, prep.ids, prep.selected
        )
        return reused, out_of_fold
    return None, None


def _tree_rows(prep: Prepared, encoder: Encoder) -> TreeRows:
    """The training rows as the forest is fitted on them."""
    return TreeRows(
        schema=prep.schema,
        matcher=prep.matcher,
        table=prep.table,
        winners=prep.winners,
        losers=prep.losers,
        y=prep.y,
        concepts=encoder.concepts,
        coverage=prep.coverage,
        n_labels=prep.n_labels,
        selected=prep.selected,
        ids=prep.ids,
        rule_labels=prep.rule_labels,
        rule_authors=tuple(r.author for r in prep.rules),
        rule_prior=prep.prior,
        weights=prep.weights,
    )


def _remember_fit(
    trees: ExampleTrees,
    snapshot: Snapshot,
    prep: Prepared,
    calibration_ids: np.ndarray,
    out_of_fold: np.ndarray,
) -> None:
    """What a later fit needs to reuse freshly fitted ``trees`` (forest_reuse.reusable_trees)."""
    concepts, rules = prep.concepts, prep.rules
    trees.revision = snapshot.revision
    trees.label_names = snapshot.schema.label_names
    trees.concept_keys = tuple(
        (concepts[c].id, concepts[c].condition.text) for c in trees.concepts.tolist()
    )
    trees.rule_keys = tuple((rules[r].id, rules[r].condition.text) for r in trees.rules.tolist())
    trees.known_rule_keys = tuple((r.id, r.condition.text) for r in rules)
    order = np.argsort(calibration_ids)
    trees.calibration_ids = calibration_ids[order]
    trees.calibration_probabilities = out_of_fold[order]


def _read_texts(
    prep: Prepared, random_state: int
) -> tuple[TextReader | None, np.ndarray | None, tuple | None, dict[str, Any] | None]:
    """The TextReader of a space with text features, fitted on the training examples, and
    its out-of-fold probabilities of them (None, None without texts or enough examples);
    then the same read with the pool (pool.py) when its out-of-fold log loss is lower, else
    None; and what the pool did (None without a pool)."""
    features = [f.name for f in prep.schema.features if f.kind == "text"]
    if not features or not TextReader.usable(prep.y):
        return None, None, None, None
    reader = TextReader(features, prep.n_labels)
    documents = reader.documents(prep.table)
    out_of_fold = reader.choose(documents, prep.y, prep.weights, random_state)
    authors = [e.author for e in prep.training]
    reader.fit(documents, prep.y, prep.weights, authors)
    pool = prep.pool
    if pool is None:
        return reader, out_of_fold, None, None
    posteriors = pool.label_model.posteriors if pool.label_model is not None else None
    pooled_reader = TextReader(features, prep.n_labels)
    pooled_reader.representation = reader.representation
    texts = PoolTexts(pooled_reader, posteriors)
    pool_documents = reader.documents(pool.table)
    pooled = texts.fit(documents, pool_documents, prep.y, prep.weights, authors, random_state)
    return reader, out_of_fold, pooled, texts.summary
