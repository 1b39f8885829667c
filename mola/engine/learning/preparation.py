"""Preparing a fit: a snapshot of teachings → the arrays the learner fits on (``prepare``).

Owns: which teachings take part (labels inside the schema, one per id, evaluation examples
apart), the tables of the training and evaluation examples, labels and weights, the
precedence pairs, the rules' priors and strengths, whether the space's last forest can be
reused, the rows held out to choose settings, what every rule covers and every concept
holds on the training rows (``_match_training``), and the unlabelled pool's sample with the
rules' firing on it (pool.py). Nothing here is learned.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import compress
from operator import attrgetter
from typing import TYPE_CHECKING, Literal

import numpy as np

from mola.engine.learning.arrays import rows_to_table, table_take
from mola.engine.learning.caching import FitCache
from mola.engine.learning.evidence import (
    rule_prior,
    rule_strengths,
    suppress_losers,
)
from mola.engine.learning.facts import ExampleFacts, example_facts
from mola.engine.learning.forest import MIN_TREE_EXAMPLES, ExampleTrees
from mola.engine.learning.forest_reuse import reusable_trees, reuse_candidates
from mola.engine.learning.matching import Matcher
from mola.engine.learning.pool import Pool, prepare_pool
from mola.engine.learning.snapshot import ConceptSpec, ExampleSpec, RuleSpec, Snapshot
from mola.engine.schema import Schema
from mola.engine.table import Table

if TYPE_CHECKING:
    from mola.engine.learning.training import LearningParams

# Rule masks × rows held at once while counting what each rule covers: 1 M entries keep the
# float copy the matrix product needs (4 MB) in cache; larger groups were slower.
RULE_GROUP_ENTRIES = 1 << 20


@dataclass
class Prepared:
    """A snapshot as arrays: the teachings that take part and what they cover."""

    schema: Schema
    labels: list[str]
    n_labels: int
    rules: list[RuleSpec]
    concepts: list[ConceptSpec]
    training: list[ExampleSpec]
    evaluation: list[ExampleSpec]
    matcher: Matcher
    winners: np.ndarray  # precedence pairs, as rule positions
    losers: np.ndarray
    table: Table  # the training examples' features
    evaluation_table: Table
    y: np.ndarray
    weights: np.ndarray
    ids: np.ndarray
    rule_labels: np.ndarray
    prior: np.ndarray  # (rules, 2) Beta pseudo-counts by expertise
    strengths: np.ndarray
    reused: ExampleTrees | None  # the cache's forest, when it fits this snapshot
    selected: np.ndarray  # training rows held out to choose settings
    covered: np.ndarray  # (rules, labels) weighted label counts under each rule
    coverage: np.ndarray  # training rows each rule fires on
    held: np.ndarray  # (concepts, rows) concept truths
    fired_selected: np.ndarray  # (rules, selected) firing at the held-out rows
    pool: Pool | None  # the unlabelled cases' sample (pool.py), None without any
    # With reused trees that discount authors: what the discount takes off ``covered``,
    # counted in the same pass (``covered_by`` would match every row again).
    covered_taken: np.ndarray | None = None
    # With reused trees that discount authors: each training row's discount (else None).
    discount: np.ndarray | None = None
    facts: ExampleFacts | None = None  # the examples' per-row facts (facts.py)
    # (rules then concepts, evaluation rows): the matcher's answer on the evaluation
    # examples when a cache kept it (caching.MaskCache), else None.
    evaluation_masks: np.ndarray | None = None


def prepare(
    snapshot: Snapshot,
    *,
    params: LearningParams,
    rng: np.random.Generator,
    random_state: int,
    cache: FitCache | None,
    trees: Literal["fit", "reuse"],
) -> Prepared:
    """The arrays of ``snapshot`` (teachings naming a label outside the schema left out);
    with ``trees="reuse"`` the cache's forest if it fits this snapshot (forest_reuse.py)."""
    schema = snapshot.schema
    labels = schema.label_names
    label_index = {name: i for i, name in enumerate(labels)}
    n_labels = len(labels)

    rules = _unique_by_id(r for r in snapshot.rules if r.label in label_index)
    concepts = _unique_by_id(snapshot.concepts)
    known = [e for e in _unique_by_id(snapshot.examples) if e.label in label_index]
    if cache is not None:
        cache.for_schema(schema)
    facts = example_facts(known, tuple(labels), cache.facts if cache is not None else None)
    if cache is not None:
        cache.facts = facts
    training, trained = facts.training()
    is_evaluation = facts.evaluation
    evaluation = list(compress(known, is_evaluation.tolist()))

    conditions = ([r.condition for r in rules], [c.condition for c in concepts])
    matcher = Matcher(schema, *conditions) if cache is None else cache.matcher(schema, *conditions)
    winners, losers = _precedence_pairs(snapshot, rules)
    rows = [e.features for e in known]
    if cache is not None:
        known_table = cache.tables.table(schema, rows)
    else:
        known_table = rows_to_table(schema, rows)
    table = table_take(known_table, np.flatnonzero(trained))
    y, weights, ids = facts.label[trained], facts.weight[trained], facts.id[trained]
    reused = _reusable(trees, cache, schema, concepts, rules, len(training))
    candidates = None if reused is None else reuse_candidates(reused, ids)
    selected = _selection_rows(params, rng, len(training), n_labels, candidates)
    discount = _discount(reused, facts, trained)
    taken = None if discount is None else weights * (1 - discount)
    masks, evaluation_masks = _kept_masks(cache, matcher, known_table, is_evaluation)
    covered, coverage, held, fired_selected, covered_taken = _match_training(
        matcher, table, winners, losers, y, weights, n_labels, selected, taken, masks, trained
    )
    pool = prepare_pool(schema, snapshot.pool, matcher, winners, losers, random_state, rows)
    return Prepared(
        schema=schema,
        labels=labels,
        n_labels=n_labels,
        rules=rules,
        concepts=concepts,
        training=training,
        evaluation=evaluation,
        matcher=matcher,
        winners=winners,
        losers=losers,
        table=table,
        evaluation_table=table_take(known_table, np.flatnonzero(is_evaluation)),
        y=y,
        weights=weights,
        ids=ids,
        rule_labels=np.array([label_index[r.label] for r in rules], dtype=np.int64),
        prior=np.array([rule_prior(r.expertise) for r in rules], dtype=np.float64).reshape(-1, 2),
        strengths=rule_strengths([r.disputed for r in rules]),
        reused=reused,
        selected=selected,
        covered=covered,
        coverage=coverage,
        held=held,
        fired_selected=fired_selected,
        pool=pool,
        covered_taken=covered_taken,
        discount=discount,
        facts=facts,
        evaluation_masks=evaluation_masks,
    )


def _reusable(
    trees: Literal["fit", "reuse"],
    cache: FitCache | None,
    schema: Schema,
    concepts: list[ConceptSpec],
    rules: list[RuleSpec],
    n_training: int,
) -> ExampleTrees | None:
    """With ``trees="reuse"``, the cache's forest ready for this fit, if it fits this
    snapshot (forest_reuse.py) and there are examples enough for a forest."""
    if trees != "reuse" or cache is None or n_training < MIN_TREE_EXAMPLES:
        return None
    concept_keys = [(c.id, c.condition.text) for c in concepts]
    rule_keys = [(r.id, r.condition.text) for r in rules]
    return reusable_trees(cache.trees, schema, concept_keys, rule_keys)


def _discount(
    reused: ExampleTrees | None, facts: ExampleFacts, trained: np.ndarray
) -> np.ndarray | None:
    """What the reused trees' authors' discounts leave of each training example's weight
    (None: no discounts)."""
    if reused is None or not reused.author_trust:
        return None
    return facts.author_values(reused.author_trust, 1.0, trained)


def _kept_masks(
    cache: FitCache | None, matcher: Matcher, known_table: Table, is_evaluation: np.ndarray
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """(every example's, the evaluation examples') masks the cache kept (caching.MaskCache),
    not to be modified; (None, None) when it kept none."""
    if cache is None:
        return None, None
    known_masks = cache.masks.masks_of(matcher, known_table, cache.tables)
    if known_masks is None:
        return None, None
    # The training masks are taken group by group (_match_training); compress, not an index
    # array: the same columns, ~35 % less CPU (650 × 10,000 at M).
    return known_masks, known_masks.compress(is_evaluation, axis=1)


def _unique_by_id(items):
    """Teachings in snapshot order, the first of any repeated id (a defensive de-dup)."""
    items = list(items)
    if len(set(map(_id_of, items))) == len(items):  # as always: no repeated id
        return items
    seen: set[int] = set()
    unique = []
    for item in items:
        if item.id not in seen:
            seen.add(item.id)
            unique.append(item)
    return unique


_id_of = attrgetter("id")


def _precedence_pairs(snapshot: Snapshot, rules: list[RuleSpec]) -> tuple[np.ndarray, np.ndarray]:
    position = {rule.id: i for i, rule in enumerate(rules)}
    pairs = sorted(
        {
            (position[p.winner], position[p.loser])
            for p in snapshot.precedences
            if p.winner in position and p.loser in position and p.winner != p.loser
        }
    )
    winners = np.array([w for w, _ in pairs], dtype=np.int64)
    losers = np.array([lo for _, lo in pairs], dtype=np.int64)
    return winners, losers


def _selection_rows(
    params: LearningParams,
    rng: np.random.Generator,
    n: int,
    n_labels: int,
    candidates: np.ndarray | None = None,
) -> np.ndarray:
    """The training rows held out one at a time to choose settings (none when too few),
    drawn from ``candidates`` when given (reused trees: the rows they can be judged on)."""
    if n < params.min_examples_to_choose or n_labels < 2:
        return np.zeros(0, dtype=np.int64)
    size = min(n, params.max_selection_rows, max(200, params.selection_budget // n))
    if candidates is not None:
        return np.sort(rng.choice(candidates, size=min(size, len(candidates)), replace=False))
    return np.sort(rng.choice(n, size=size, replace=False))


def _match_training(
    matcher: Matcher,
    table: Table,
    winners: np.ndarray,
    losers: np.ndarray,
    y: np.ndarray,
    weights: np.ndarray,
    n_labels: int,
    selected: np.ndarray,
    taken: np.ndarray | None = None,
    masks: np.ndarray | None = None,
    columns: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """Match every rule and concept on the training rows, keeping only what fitting needs:
    per-rule weighted label counts and coverage, concept truths, the firing at the
    held-out rows, and (with ``taken``, per row) the label counts of those weights alone,
    else None. Rules go through in groups (all rules × 100,000 rows would be 200 MB); a
    group's label counts are one matrix product. ``masks``: every target's mask over the
    rows ``columns`` selects (the training rows among the examples), already matched
    (``caching.MaskCache``; not modified), else they are matched."""
    n_rules, n = matcher.n_rules, table.n_rows
    # Where a winner fires its losers are silenced: the winners' masks are needed first.
    if masks is None:
        winner_masks = dict(
            zip(np.unique(winners).tolist(), matcher.masks(table, np.unique(winners)), strict=True)
        )
    else:
        winner_masks = {w: masks[w].compress(columns) for w in np.unique(winners).tolist()}
    beaten = {
        int(loser): np.logical_or.reduce(
            [winner_masks[w] for w in winners[losers == loser].tolist()]
        )
        for loser in np.unique(losers)
    }
    group = np.zeros((max(1, min(n_rules, RULE_GROUP_ENTRIES // max(n, 1))), n), dtype=bool)
    counts = _Counts(n_rules, y, weights, n_labels, selected, taken, group.shape)
    if masks is not None:
        # Each group's rows taken straight into it: no copy of every mask first.
        for start in range(0, n_rules, len(group)):
            block = group[: min(len(group), n_rules - start)]
            np.compress(columns, masks[start : start + len(block)], axis=1, out=block)
            for target in range(start, start + len(block)):
                if target in beaten:
                    block[target - start] &= ~beaten[target]
            counts.add(block, start)
        held = masks[n_rules:].compress(columns, axis=1)
        return counts.result(held)
    held = np.zeros((matcher.n_concepts, n), dtype=bool)
    start = 0
    for target, mask in enumerate(matcher.masks(table)):
        if target >= n_rules:
            held[target - n_rules] = mask
            continue
        if target in beaten:
            mask &= ~beaten[target]
        group[target - start] = mask
        if target - start + 1 == len(group) or target + 1 == n_rules:
            counts.add(group[: target - start + 1], start)
            start = target + 1
    return counts.result(held)


class _Counts:
    """What ``_match_training`` keeps of the rules' masks, added a group of rules at a time."""

    def __init__(self, n_rules, y, weights, n_labels, selected, taken, group_shape) -> None:
        n = group_shape[1]
        self.n_labels, self.selected = n_labels, selected
        self.label_weights = np.zeros((n, max(n_labels, 1)), dtype=np.float32)
        self.label_weights[np.arange(n), y] = weights
        self.covered = np.zeros((n_rules, max(n_labels, 1)))
        self.taken_weights = self.covered_taken = None
        if taken is not None:
            self.taken_weights = np.zeros_like(self.label_weights)
            self.taken_weights[np.arange(n), y] = taken
            self.covered_taken = np.zeros_like(self.covered)
        self.coverage = np.zeros(n_rules, dtype=np.int64)
        self.fired_selected = np.zeros((n_rules, len(selected)), dtype=bool)
        self.as_floats = np.empty(group_shape, np.float32)  # reused: no page faults per group

    def add(self, block: np.ndarray, start: int) -> None:
        """Count the rules ``start``, ``start + 1``… whose (final) masks ``block`` holds."""
        stop = start + len(block)
        floats = self.as_floats[: len(block)]
        np.copyto(floats, block)
        self.covered[start:stop] = floats @ self.label_weights
        if self.taken_weights is not None:
            self.covered_taken[start:stop] = floats @ self.taken_weights
        self.coverage[start:stop] = np.count_nonzero(block, axis=1)
        self.fired_selected[start:stop] = block[:, self.selected]

    def result(self, held: np.ndarray) -> tuple:
        n_labels = self.n_labels
        taken = None if self.covered_taken is None else self.covered_taken[:, :n_labels]
        return self.covered[:, :n_labels], self.coverage, held, self.fired_selected, taken


def covered_by(
    matcher: Matcher,
    table: Table,
    winners: np.ndarray,
    losers: np.ndarray,
    y: np.ndarray,
    weights: np.ndarray,
    n_labels: int,
) -> np.ndarray:
    """(rules, labels) the weighted label counts of the rows of nonzero ``weights`` under
    each rule (after precedence): what a discount of some authors takes off ``covered``."""
    rows = np.flatnonzero(weights > 0)
    out = np.zeros((matcher.n_rules, max(n_labels, 1)))
    if not len(rows) or not matcher.n_rules:
        return out[:, :n_labels]
    fired, _ = matcher.match(table_take(table, rows))
    fired = suppress_losers(fired, winners, losers)
    label_weights = np.zeros((len(rows), out.shape[1]))
    label_weights[np.arange(len(rows)), y[rows]] = weights[rows]
    return (fired.astype(np.float64) @ label_weights)[:, :n_labels]
