"""The rules that decide a prediction: a whole-model deletion check, pair by pair.

A rule decides a row's prediction when it votes for the predicted label and switching it
off alone lowers that label's probability (by more than ``DECIDING_DROP``) — through its
vote and through the forest, which reads it as a column. Where switching a row's deciding
rules off together would not lower it (trees can make two rules stand in for each other),
only the one whose removal lowers it most is named: the named set always passes the
deletion test of bench/quality.py.

There are tens of (voting rule, row) pairs per row at M (~47 on bench/synthetic.py's M
world), so the check is built not to cost a model pass per pair. Only what depends on the
switched rule is recomputed: the votes are the row's minus that rule's, the forest's
support the minimum over the row's other rules, and the forest's answer is the row's own
unless a tree tests the rule's column on the row's path — then only those trees are walked
again (forest_walk.py); a boosting member beside the forest (forest_boost.py) likewise
walks again only its trees that test the column on the row's path (forest_boost_walk.py:
at S, 10,000 rows explained in ~2.3 s of CPU, not ~3.3-4.4). The neighbours do not
depend on the rules and are the row's. Nothing is (rules × pairs): the pairs go through in
chunks of ``PAIRS_PER_CHUNK`` whatever the batch size, so 10,000 rows cost about five
times 2,000 (at M: 0.17 and 0.93 s of CPU under load; 0.69 and 4.5 s before).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from mola.engine.learning.arrays import row_slices
from mola.engine.learning.forest import SEEN
from mola.engine.learning.forest_boost import SMALL_WALK, Booster
from mola.engine.learning.forest_walk import FlatForest, is_read
from mola.engine.learning.scoring import tempered

if TYPE_CHECKING:
    from mola.engine.learning.forest import ExampleTrees
    from mola.engine.learning.model import TaughtModel, _Evidence
    from mola.engine.table import Table

# A rule decides a prediction when switching it off lowers the predicted label's
# probability by more than this (less is rounding, not a reason).
DECIDING_DROP = 1e-6
# (rule, row) pairs taken at once: their (pairs × labels) and (pairs × trees) arrays stay
# within a few MB, so they are computed in cache.
PAIRS_PER_CHUNK = 8192


class ForestInput(NamedTuple):
    """The forest's view of one block of rows."""

    walker: FlatForest
    classes: np.ndarray  # the forest's classes among the model's labels
    x: np.ndarray  # (rows, columns) its input
    leaves: np.ndarray  # (rows, trees) where its trees send each row
    answers: np.ndarray  # (rows, labels) its probabilities (with its boosting member's)
    own: np.ndarray  # (rows, labels) the random forest's alone
    boosted: np.ndarray | None  # (rows, labels) the boosting member's (None: no member)
    booster: Booster | None  # forest_boost.py
    # The member's trees (forest_boost_walk.py): where they send each row (rows, trees),
    # its raw predictions (rows, BoostWalk.n_raw), which columns they test on each row's
    # paths (packed bits, as FlatForest.columns_read). None without a member.
    boost_leaves: np.ndarray | None = None
    boost_raw: np.ndarray | None = None
    boost_read: np.ndarray | None = None


def deciding_rules(
    model: TaughtModel, table: Table, evidence: _Evidence, probabilities: np.ndarray
) -> np.ndarray:
    """(rules, rows) the rules that decide each row's prediction (module docstring)."""
    fired = evidence.fired
    deciding = np.zeros_like(fired)
    if not probabilities.shape[1] or not fired.any():
        return deciding
    label = probabilities.argmax(axis=1)
    # Row by row (rows × rules, contiguous), so that each chunk reads few rows' data.
    voting = (model.rules_.votes > 0).T[label]
    rows, rules = np.nonzero(np.ascontiguousarray(fired.T) & voting)
    if not len(rows):
        return deciding
    forest = evidence.forest
    # Which columns some tree tests on each row (FlatForest.columns_read).
    read = forest.walker.columns_read(forest.leaves) if forest is not None else None
    drop = _pair_drops(model, evidence, probabilities, label, rows, rules, forest, read)
    deciding[rules, rows] = drop > DECIDING_DROP
    several = np.flatnonzero(
        np.bincount(rows, weights=deciding[rules, rows], minlength=len(label)) > 1
    )
    if len(several):
        together = fired[:, several] & ~deciding[:, several]
        failed = _variant_drops(
            model, evidence, probabilities, label, several, together, forest, read
        )
        # The pairs are sorted by row: each row's are one slice.
        starts = np.searchsorted(rows, several)
        stops = np.searchsorted(rows, several, side="right")
        for i in np.flatnonzero(failed <= DECIDING_DROP).tolist():
            row, start = several[i], starts[i]
            deciding[:, row] = False
            deciding[rules[start + np.argmax(drop[start : stops[i]])], row] = True
    return deciding


def forest_input(
    model: TaughtModel, table: Table, fired: np.ndarray, held: np.ndarray, found: np.ndarray
) -> ForestInput | None:
    """The forest's input for ``table``'s rows with rules ``fired`` and concepts ``held``,
    where its trees send them and its answers (None when the model reads no forest there,
    or the forest answers without looking: one label, no trees). Built by the model's
    evidence of an explained block, whose forest answers are these."""
    trees = model.trees_
    if not model._reads_forest(table, found):
        return None
    walker = trees.walker()
    if walker is None:
        return None
    x = trees.encode(table, fired, held)
    leaves = walker.leaves(x)
    classes = trees.model.classes_
    own = np.zeros((len(x), trees.n_labels))
    own[:, classes] = walker.probabilities(leaves)
    booster = trees.booster
    if booster is None:
        return ForestInput(walker, classes, x, leaves, own, own, None, None)
    member = booster.walker()
    if len(x) <= SMALL_WALK:  # as Booster.probabilities reads few rows
        member_leaves = member.leaves(x)
        raw = np.hstack(booster.raw_at(member_leaves))  # as Booster._raw from its leaves
    else:
        values = member.tree_values(x)
        raw = member.raw(values)
        member_leaves = member.leaves_of(x, values)
    boosted = booster.from_raw(raw)
    answers = booster.mixed(own, boosted)
    read = member.columns_read(member_leaves)
    return ForestInput(
        walker, classes, x, leaves, answers, own, boosted, booster, member_leaves, raw, read
    )


def _pair_drops(
    model: TaughtModel,
    evidence: _Evidence,
    probabilities: np.ndarray,
    label: np.ndarray,
    rows: np.ndarray,
    rules: np.ndarray,
    forest: ForestInput | None,
    read: np.ndarray | None,
) -> np.ndarray:
    """How much the predicted label's probability at ``rows[p]`` falls when rule
    ``rules[p]`` alone is switched off there. The forest's counts are the row's except for
    the pairs whose forest answer or support moves."""
    votes, strength, trees = model.rules_.votes, model.rule_strength_, model.trees_
    fired, found, squared = evidence.fired, evidence.found, evidence.squared
    vote_sums = fired.T.astype(np.float64) @ votes
    if forest is not None:
        support = trees.support(fired)
        supports = _support_without(fired, trees.coverage, rows, rules)
        columns = trees.rule_column(len(votes), forest.x.shape[1])
        row_forest = evidence.forest_counts  # the evidence's, from the same answers
        assert row_forest is not None
    drops = np.empty(len(rows))
    for chunk in row_slices(len(rows), PAIRS_PER_CHUNK):
        at, off = rows[chunk], rules[chunk]
        ruled = strength * (vote_sums[at] - votes[off])
        forest_counts = np.zeros((0, 0))
        if forest is not None:
            answers, moved = _pair_answers(forest, read, at, columns[off])
            moved |= supports[chunk] != support[at]
            forest_counts = row_forest[at]
            if moved.any():
                m = np.flatnonzero(moved)
                forest_counts[m] = model._forest_counts(
                    answers[m], supports[chunk][m], found[at[m]], squared[at[m]]
                )
            ruled = ruled + trees.mass * forest_counts  # as TaughtModel._ruled adds them
        drops[chunk] = _drop(model, evidence, probabilities, label, at, ruled, forest_counts)
    return drops


def _pair_answers(
    forest: ForestInput, read: np.ndarray, rows: np.ndarray, columns: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The forest's answers at ``rows[p]`` with column ``columns[p]`` (-1: none) switched
    off, and which of them moved: the row's own where no tree tests that column on the
    row's path (``read``: FlatForest.columns_read), the trees that do walked again
    elsewhere."""
    answers = forest.own[rows]
    moved = np.zeros(len(rows), dtype=bool)
    candidates = np.flatnonzero(columns >= 0)
    switched = candidates
    candidates = candidates[is_read(read, rows[candidates], columns[candidates])]
    if len(candidates):
        changed, leaves = forest.walker.switched_leaves(
            forest.x, forest.leaves, rows[candidates], columns[candidates]
        )
        at = candidates[changed]
        answers[at[:, None], forest.classes] = forest.walker.probabilities(leaves)
        moved[at] = True
    booster = forest.booster
    if booster is None:
        return answers, moved
    # The boosting member's answer moves only where one of its trees tests the column on
    # the row's path: those trees alone are walked again (BoostWalk.switched_raw).
    boosted = forest.boosted[rows]
    again = switched[booster.uses[columns[switched]]]
    again = again[is_read(forest.boost_read, rows[again], columns[again])]
    if len(again):
        changed, raw = booster.walker().switched_raw(
            forest.x, forest.boost_leaves, forest.boost_raw, rows[again], columns[again]
        )
        at = again[changed]
        boosted[at] = booster.from_raw(raw)
        moved[at] = True
    return booster.mixed(answers, boosted), moved


def _variant_drops(
    model: TaughtModel,
    evidence: _Evidence,
    probabilities: np.ndarray,
    label: np.ndarray,
    rows: np.ndarray,
    fired: np.ndarray,
    forest: ForestInput | None,
    read: np.ndarray | None,
) -> np.ndarray:
    """How much the predicted label's probability at each of ``rows`` (distinct) falls
    when the rules firing there are ``fired`` (rules, len(rows)) instead. The forest is
    asked again only at the rows where some tree tests a switched rule's column."""
    ruled = model.rule_strength_ * (fired.T.astype(np.float64) @ model.rules_.votes)
    forest_counts = np.zeros((0, 0))
    if forest is not None:
        trees = model.trees_
        was = evidence.fired[:, rows]
        switched, at = np.nonzero(fired != was)
        column = trees.rule_column(len(fired), forest.x.shape[1])[switched]
        at, column = at[column >= 0], column[column >= 0]
        moved = np.unique(at[is_read(read, rows[at], column)])
        answers = forest.own[rows]
        if len(moved):
            x = trees.with_rules(forest.x[rows[moved]], fired[:, moved], was[:, moved])
            answers[moved[:, None], forest.classes] = forest.walker.probabilities(
                forest.walker.leaves(x)
            )
        if forest.booster is not None:
            answers = _boosted_variants(trees, forest, rows, fired, was, at, column, answers)
        forest_counts = model._forest_counts(
            answers, trees.support(fired), evidence.found[rows], evidence.squared[rows]
        )
        ruled = ruled + trees.mass * forest_counts  # as TaughtModel._ruled adds them
    return _drop(model, evidence, probabilities, label, rows, ruled, forest_counts)


def _boosted_variants(
    trees: ExampleTrees,
    forest: ForestInput,
    rows: np.ndarray,
    fired: np.ndarray,
    was: np.ndarray,
    at: np.ndarray,
    column: np.ndarray,
    own: np.ndarray,
) -> np.ndarray:
    """``own`` (the random forest's answers at ``rows`` with the rules ``fired``) with the
    boosting member's mixed in, read again at the rows where one of its trees splits on a
    switched column (``at``/``column``: the switched cells that have a column)."""
    booster = forest.booster
    boosted = forest.boosted[rows]
    used = booster.uses[column]
    at, column = at[used], column[used]
    again = np.unique(at)
    if len(again):
        x = trees.with_rules(forest.x[rows[again]], fired[:, again], was[:, again])
        taken = rows[again]
        raw = booster.walker().changed_raw(
            x,
            forest.boost_leaves[taken],
            forest.boost_raw[taken],
            np.searchsorted(again, at),
            column,
        )
        boosted[again] = booster.from_raw(raw)
    return booster.mixed(own, boosted)


def _drop(
    model: TaughtModel,
    evidence: _Evidence,
    probabilities: np.ndarray,
    label: np.ndarray,
    rows: np.ndarray,
    ruled: np.ndarray,
    forest_counts: np.ndarray,
) -> np.ndarray:
    """The fall of the predicted label's probability at ``rows`` with the rule-dependent
    counts ``ruled`` (and the forest's, for its floor) instead of the row's."""
    counts = model._floored(evidence.steady[rows] + ruled, forest_counts)
    after = tempered(counts, model.temperature_)
    chosen = label[rows]
    return probabilities[rows, chosen] - after[np.arange(len(rows)), chosen]


def _support_without(
    fired: np.ndarray, coverage: np.ndarray, rows: np.ndarray, rules: np.ndarray
) -> np.ndarray:
    """The forest's support (``forest.rule_support``: the minimum over a row's firing rules
    of min(1, coverage / SEEN)) at ``rows[p]`` without rule ``rules[p]``, which fires
    there: the row's second smallest term where that rule gave the smallest, else the
    smallest (a minimum: exact)."""
    trust = np.minimum(1.0, np.asarray(coverage, dtype=np.float64) / SEEN)
    low = np.flatnonzero(trust < 1)  # only the barely seen rules can lower a row's support
    if not len(low):
        return np.ones(len(rows))
    terms = np.where(fired[low], trust[low, None], 1.0)
    terms = np.vstack([terms, np.ones((1, fired.shape[1]))])  # a second term for every row
    smallest, second = np.partition(terms, 1, axis=0)[:2]
    return np.where(trust[rules] == smallest[rows], second[rows], smallest[rows])
