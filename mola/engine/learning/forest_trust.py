"""Whom the forest trusts, and what a fit may keep from the space's last one.

Owns: the forest setting a fit keeps while its examples are about as many as when the grid
search chose it (``settled_setting``), the authors' discounts it keeps while no author's
examples moved (``settled_trust``), and the view of forests fitted on other authors'
examples that the authors' trust is judged by beside the out-of-bag one (``others_view``;
below ``forest.FEW_ROWS`` also the other authors' rules, ``RuleFacts``; authors.py turns
the views into discounts). The limits forest.py shares (``GRID_ROWS``,
``MIN_TREE_EXAMPLES``) are read through its module: one value for every part of the forest.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from mola.engine.learning import forest
from mola.engine.learning.authors import FEW_ROWS_SHRINK, TRUST_SHRINK, author_trust, rules_view
from mola.engine.learning.forest import ExampleTrees, go_on

# Beyond forest.GRID_ROWS examples a fit may keep the setting the last grid search chose (the
# space's previous trees, ``settled_setting``) while the examples it chose on are within
# this share of today's: the search is a whole forest more (0.2-1 s of CPU at M) and picks
# the same setting again unless the examples changed.
SETTLED_CHANGE = 0.1
# Up to forest.GRID_ROWS examples, authors' trust is also judged by forests of other authors'
# examples (others_view): at most this many groups of authors, each forest this many trees
# of at most OTHERS_BOOTSTRAP rows. Beyond, not: on the M world of bench/synthetic.py (50
# honest authors) its noisier view pushed one author under RELEVANT, which added a refit
# (full fit 1.8 -> 3.4 s CPU) and lost 0.3 point against the truth.
AUTHOR_FOLDS = 5
OTHERS_TREES = 50
OTHERS_BOOTSTRAP = 1_000


@dataclass(frozen=True)
class RuleFacts:
    """The rules as ``authors.rules_view`` reads them, at the fitted rows."""

    fired: np.ndarray  # (rules, rows) after precedence
    labels: np.ndarray  # each rule's label index
    authors: np.ndarray  # each rule's author code (-1: an author with no fitted example)
    prior: np.ndarray  # (rules, 2) Beta pseudo-counts by the author's level
    weights: np.ndarray  # each fitted row's example weight


def settled_setting(
    previous: ExampleTrees | None, n_rows: int
) -> tuple[dict[str, Any], int] | None:
    """The forest setting the space's ``previous`` trees were fitted with and the rows its
    grid search ran on, if those are within ``SETTLED_CHANGE`` of ``n_rows`` (and
    ``n_rows`` is beyond ``GRID_ROWS``, where a search costs whole forests); None: search
    again."""
    searched = getattr(previous, "searched_rows", 0)
    if previous is None or not searched or n_rows <= forest.GRID_ROWS or previous.legacy:
        return None
    if abs(n_rows - searched) > SETTLED_CHANGE * searched:
        return None
    return dict(previous.setting), searched


def settled_trust(
    previous: ExampleTrees | None,
    settled: tuple[dict[str, Any], int] | None,
    counted: dict[str, int],
) -> dict[str, float] | None:
    """The authors' discounts ``previous`` was refitted with (authors.py), to fit with at
    once, while its setting is settled (``settled_setting``) and no author's examples
    (``counted``: per author name, today) changed by more than ``TRUST_SHRINK`` since they
    were learned: a discount learned again on about the same examples differs by the
    out-of-bag noise alone, and learning it costs a forest. None: learn them again (also
    when ``previous`` was not refitted: its plain forest gives the trust at no cost)."""
    if settled is None or previous is None or not previous.author_trust:
        return None
    then = previous.trust_counts
    if then is None:
        return None
    for name in then.keys() | counted.keys():
        if abs(counted.get(name, 0) - then.get(name, 0)) > TRUST_SHRINK:
            return None
    return previous.author_trust


def others_view(
    x: np.ndarray,
    y: np.ndarray,
    authors: np.ndarray,
    n_labels: int,
    setting: dict[str, Any],
    seed: int,
    cancelled: Callable[[], bool] | None = None,
) -> np.ndarray | None:
    """(rows, n_labels) what forests fitted on *other authors'* examples say of each row:
    the authors fall into at most ``AUTHOR_FOLDS`` groups (balanced by examples), and each
    group's rows are predicted by a forest (``setting``) fitted on the other groups; NaN
    where that forest cannot be fitted (fewer than ``forest.MIN_TREE_EXAMPLES`` examples or one
    label in the other groups). None with one author.

    Why, beside the out-of-bag view: a saboteur's examples agree with one another and with
    their own rules, which are the forest's columns, so out of bag the forest backs them
    (bench/quality.py, overlap at 50 examples, seed 2: the saboteur trusted fully, the
    expert discounted to 0.75). Examples judged only by other authors' are judged by what the
    community says there. Alone that view overrules a right minority (a saboteur with a
    quarter of the examples zeroed an expert's trust); the mean of both views does neither
    as often (fit_trees)."""
    present = np.flatnonzero(np.bincount(authors))
    if len(present) < 2:
        return None
    from sklearn.ensemble import RandomForestClassifier

    # Largest authors first, each into the group with the fewest examples so far.
    counts = np.bincount(authors)
    group_of = np.zeros(len(counts), dtype=np.int64)
    load = np.zeros(min(AUTHOR_FOLDS, len(present)))
    for author in present[np.argsort(-counts[present], kind="stable")]:
        group_of[author] = int(load.argmin())
        load[group_of[author]] += counts[author]
    groups = group_of[authors]
    out = np.full((len(y), n_labels), np.nan)
    for group in range(len(load)):
        mine = groups == group
        rest = ~mine
        if rest.sum() < forest.MIN_TREE_EXAMPLES or len(np.unique(y[rest])) < 2:
            continue
        go_on(cancelled)
        model = RandomForestClassifier(
            n_estimators=OTHERS_TREES,
            random_state=seed,
            n_jobs=1,
            max_samples=min(int(rest.sum()), OTHERS_BOOTSTRAP),
            **setting,
        ).fit(x[rest], y[rest])
        said = np.zeros((int(mine.sum()), n_labels))
        said[:, model.classes_] = model.predict_proba(x[mine])
        out[mine] = said
    if np.isnan(out).all():
        return None
    return out


def judged_trust(
    oob: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    authors: np.ndarray,
    setting: dict[str, Any],
    seed: int,
    cancelled: Callable[[], bool] | None = None,
    rules: RuleFacts | None = None,
) -> np.ndarray:
    """Each author's trust (``authors.author_trust``, by author code) in the fitted rows
    ``x``/``y`` (``authors``: each row's author code): judged half by the plain forest's
    out-of-bag view ``oob``, half by forests of everyone else's examples (``others_view``,
    up to ``GRID_ROWS`` rows; where it has nothing to say, the out-of-bag view alone).
    With ``rules`` (``fit_trees`` gives them below ``forest.FEW_ROWS`` rows): a third each,
    the third what the other authors' rules say (``authors.rules_view``; where none fires,
    the two), and each author's agreement shrunk by ``FEW_ROWS_SHRINK`` pseudo-examples
    (authors.py: why).

    Measured on bench/quality.py's worlds 100-119 at 50 examples (80 cells; forests of
    ``forest.FEW_ROWS_TREES`` trees in both): MOLA's family means +0.6 / +0.5 / +1.6 / +1.0
    points (overlap, broad, saboteur, concepts); the sum of the four means +3.6 points, of
    which the rules' view alone gave +0.9 and the lighter shrink alone +1.2. At 150
    examples, on worlds 100-109, the two gave nothing (means -0.2 to +0.2 points)."""
    others = None
    if len(y) <= forest.GRID_ROWS:
        others = others_view(x, y, authors, oob.shape[1], setting, seed, cancelled)
    others = oob if others is None else np.where(np.isnan(others), oob, others)
    judged = (oob + others) / 2
    if rules is None:
        return author_trust(authors, y, judged)
    n_labels = oob.shape[1]
    said = rules_view(
        rules.fired, y, rules.weights, authors, rules.labels, rules.authors, rules.prior, n_labels
    )
    judged = np.where(np.isnan(said), judged, (oob + others + np.nan_to_num(said)) / 3)
    return author_trust(authors, y, judged, FEW_ROWS_SHRINK)
