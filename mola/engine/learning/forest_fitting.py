"""Fitting a space's forest on its training rows.

Owns: the rows a forest is fitted on (``TreeRows``) and their encoding, matched in blocks;
a full fit (``fit_trees``: a sample beyond ``MAX_TREE_ROWS``, the plain forest, the authors'
trust judged from it and, when some author is discounted, the discounted forest — or the
discounted one at once while the trust is settled, forest_trust.py; at 150-4,000
examples its boosting member, forest_boost.py); a quick retrain's
refit with the kept setting and discounts (``refit_trees``) and when it is worth it
(``quick_refit``). The trees themselves: forest.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from mola.engine.learning import forest, forest_boost
from mola.engine.learning.arrays import row_slices, table_take
from mola.engine.learning.authors import RELEVANT
from mola.engine.learning.evidence import suppress_losers
from mola.engine.learning.forest import ExampleTrees, go_on, rule_columns
from mola.engine.learning.forest_trust import (
    RuleFacts,
    judged_trust,
    settled_setting,
    settled_trust,
)
from mola.engine.learning.matching import Matcher
from mola.engine.schema import Schema
from mola.engine.table import Table

MAX_TREE_ROWS = 20_000
ROWS_PER_MATCH = 8192
# A quick retrain fits the forest again (kept setting and discounts) on a space of at most
# QUICK_REFIT_ROWS training examples when QUICK_REFIT_SHARE of them are new since (quick_refit).
QUICK_REFIT_ROWS = 1_000
QUICK_REFIT_SHARE = 0.05


@dataclass(frozen=True)
class TreeRows:
    """What a space's forest is fitted on: its training rows as the preparation read them."""

    schema: Schema
    matcher: Matcher
    table: Table
    winners: np.ndarray  # precedence, as the matcher's rules
    losers: np.ndarray
    y: np.ndarray  # each row's label index
    concepts: np.ndarray  # the concept positions the forest reads
    coverage: np.ndarray  # training rows each rule fires on
    n_labels: int
    selected: np.ndarray  # the rows whose held-out probabilities are wanted
    ids: np.ndarray  # each row's example id
    # What the authors' trust reads of the rules below forest.FEW_ROWS (forest_trust.py).
    rule_labels: np.ndarray  # each rule's label index
    rule_authors: tuple[str, ...]  # each rule's author
    rule_prior: np.ndarray  # (rules, 2) Beta pseudo-counts by the author's level
    weights: np.ndarray  # each row's example weight


def fit_trees(
    data: TreeRows,
    seed: int,
    authors: np.ndarray,
    author_names: list[str],
    cancelled: Callable[[], bool] | None = None,
    previous: ExampleTrees | None = None,
    threads: int = 1,
) -> tuple[ExampleTrees | None, np.ndarray | None]:
    """The forest and its held-out probabilities at the ``selected`` rows: out-of-bag where
    it saw the row, its prediction where the row was left out of its sample (None, None
    when examples are too few). ``authors``: each row's author code in ``author_names``;
    the forest is refitted with the authors' discounts when they matter (authors.py),
    kept in ``trees.author_trust``. ``cancelled``: asked before each forest is fitted and
    between its parts; ``FitCancelled`` when it says so. ``previous``: the space's last
    fitted trees, whose setting is kept while it is settled (``settled_setting``), and
    whose authors' discounts are fitted with at once while they are (``settled_trust``).
    ``threads``: trees fitted side by side."""
    y, n_labels, selected, ids = data.y, data.n_labels, data.selected, data.ids
    n = len(y)
    if n < forest.MIN_TREE_EXAMPLES or n_labels < 2 or not len(selected):
        return None, None
    rng = np.random.default_rng(seed)
    trees = ExampleTrees(data.schema, data.concepts, rule_columns(data.coverage), n_labels)
    pool = np.arange(n)
    if n > MAX_TREE_ROWS:
        pool = np.sort(rng.choice(n, MAX_TREE_ROWS, replace=False))
    rows = np.union1d(pool, selected)
    x_rows = _encode_rows(trees, data.matcher, data.table, rows, data.winners, data.losers)
    position = np.searchsorted(rows, pool)
    trees.fitted_ids = np.sort(ids[pool])
    go_on(cancelled)
    settled = settled_setting(previous, len(pool))
    counts = np.bincount(authors[pool], minlength=len(author_names))
    counted = {author_names[a]: int(counts[a]) for a in np.flatnonzero(counts)}
    kept = settled_trust(previous, settled, counted)
    # The fitted rows, gathered once (each forest below reads them), and how each is fitted.
    x_fit, y_fit = x_rows[position], y[pool]
    how = {"cancelled": cancelled, "settled": settled, "threads": threads}
    if kept is not None:
        # Learned on about these examples: the discounted forest at once (one forest, not
        # the plain one to learn the trust from and the discounted one).
        trust = np.array([kept.get(name, 1.0) for name in author_names])
        discounted, trust_counts = dict(kept), previous.trust_counts
    else:
        oob = trees.fit(x_fit, y_fit, seed, **how)
        rules = _rule_facts(data, pool, author_names)
        trust = judged_trust(
            oob, x_fit, y_fit, authors[pool], trees.setting, seed, cancelled, rules
        )
        present = counts[: len(trust)] > 0
        trust_counts = counted
        discounted = {
            author_names[a]: float(trust[a]) for a in np.flatnonzero(present & (trust < 1))
        }
        if present.any() and trust[present].min() < RELEVANT:
            go_on(cancelled)
        else:
            trust = None  # nobody discounted enough to matter: the plain forest is kept
    discount = None
    if trust is not None:
        # The discounted forest. Its setting: the settled one, else the one the plain forest
        # chose (the plain fit took the settled setting too, when it was on its grid).
        discount = np.maximum(trust[authors[pool]], 1e-3)
        oob = trees.fit(x_fit, y_fit, seed, weights=discount, **how)
        trees.author_trust = discounted
    trees.trust_counts = trust_counts
    # Where examples are 150-4,000, a boosting member weighted as the forest was.
    oob = forest_boost.add_member(trees, x_fit, y_fit, discount, oob, seed, cancelled)
    held_out = np.zeros((len(selected), n_labels))
    inside = np.isin(selected, pool)
    held_out[inside] = oob[np.searchsorted(pool, selected[inside])]
    if (~inside).any():
        held_out[~inside] = trees.probabilities(x_rows[np.searchsorted(rows, selected[~inside])])
    return trees, held_out


def refit_trees(
    previous: ExampleTrees,
    data: TreeRows,
    seed: int,
    authors: list[str],
    cancelled: Callable[[], bool] | None = None,
) -> tuple[ExampleTrees, np.ndarray]:
    """A quick retrain's forest on a small space (``quick_refit``): one forest on every
    training example with the setting and the authors' discounts of ``previous`` (no grid,
    no trust judged again: the refine does both; ``forest.FOREST_TREES`` trees whatever the
    rows), and its out-of-bag probabilities at the ``selected`` rows. ``authors``: each
    row's author name."""
    trees = ExampleTrees(data.schema, data.concepts, rule_columns(data.coverage), data.n_labels)
    trees.setting = previous.setting
    trees.author_trust = dict(previous.author_trust)
    every = np.arange(len(data.y))
    x = _encode_rows(trees, data.matcher, data.table, every, data.winners, data.losers)
    trees.fitted_ids = np.sort(data.ids)
    weights = np.array([max(trees.author_trust.get(a, 1.0), 1e-3) for a in authors])
    go_on(cancelled)
    # weights: the kept setting, no grid. FOREST_TREES, also below FEW_ROWS: there 400 trees
    # took a quick retrain after a burst from 0.12 to 0.48 s of CPU (50 examples); the
    # refine that follows brings the steadier forest.
    oob = trees.fit(x, data.y, seed, weights=weights, trees=forest.FOREST_TREES)
    return trees, oob[data.selected]


def quick_refit(previous: ExampleTrees, ids: np.ndarray) -> bool:
    """Whether a quick retrain fits its forest again rather than reuse ``previous``: on a
    space of at most ``QUICK_REFIT_ROWS`` training examples (``ids``) of which at least
    ``QUICK_REFIT_SHARE`` came since ``previous`` was fitted.

    Why: on bench/quality.py's worlds at 150 examples, after a burst (the last tenth of the
    examples taught faster than refines follow) the reused forest, which never saw them, was
    served 2.5-3.3 points below the refined version; one forest of the kept setting costs
    there about what the rest of the retrain does. One more example alone does not need it
    (within a point on average), nor a large space, whose forest a few examples barely move.
    """
    if len(ids) > QUICK_REFIT_ROWS or not len(ids) or previous.only_label is not None:
        return False
    added = int((~np.isin(ids, previous.fitted_ids)).sum())
    return added >= QUICK_REFIT_SHARE * len(ids)


def _rule_facts(data: TreeRows, pool: np.ndarray, author_names: list[str]) -> RuleFacts | None:
    """The rules at the fitted rows ``pool``, as the authors' trust reads them below
    ``forest.FEW_ROWS`` rows (None from there: not read)."""
    if len(pool) >= forest.FEW_ROWS:
        return None
    fired, _ = data.matcher.match(table_take(data.table, pool))
    code = {name: i for i, name in enumerate(author_names)}
    return RuleFacts(
        fired=suppress_losers(fired, data.winners, data.losers),
        labels=data.rule_labels,
        authors=np.array([code.get(a, -1) for a in data.rule_authors], dtype=np.int64),
        prior=data.rule_prior,
        weights=data.weights[pool],
    )


def _encode_rows(
    trees: ExampleTrees,
    matcher: Matcher,
    table: Table,
    rows: np.ndarray,
    winners: np.ndarray,
    losers: np.ndarray,
) -> np.ndarray:
    """Forest features of the table's ``rows``, matched in blocks (all rules × 20,000 rows
    at once would be 40 MB of booleans)."""
    parts = []
    for block in row_slices(len(rows), ROWS_PER_MATCH):
        part = table_take(table, rows[block])
        fired, held = matcher.match(part)
        fired = suppress_losers(fired, winners, losers)
        parts.append(trees.encode(part, fired, held))
    return np.vstack(parts)
