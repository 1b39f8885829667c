"""The example forest: a rule gets a column of its own; the forest gives way where a rule it
never saw fires; an author the forest disagrees with is discounted (its flat walk:
test_learning_forest_walk.py)."""

from __future__ import annotations

import numpy as np
import pytest

from mola.engine.learning import forest, forest_trust
from mola.engine.learning.arrays import table_take
from mola.engine.learning.authors import author_trust, rules_view
from mola.engine.learning.forest import ExampleTrees, rule_columns, rule_support
from mola.engine.schema import Schema
from mola.engine.table import table_from_rows

SCHEMA = Schema.from_dicts(
    [
        {"name": "height", "kind": "number"},
        {"name": "kind", "kind": "category", "choices": ["a", "b", "c", "d", "e"]},
        {"name": "tired", "kind": "boolean"},
    ],
    [{"name": "x"}, {"name": "y"}, {"name": "z"}],
)


def _features(rng: np.random.Generator, n: int, *, codes: int = 4) -> np.ndarray:
    """Forest features as ``ExampleTrees.encode`` makes them: a number with missing values,
    0/1 columns (choices, concepts, rules)."""
    x = np.column_stack(
        [
            rng.normal(size=n),
            rng.integers(0, codes, n) == 2,
            rng.integers(0, 2, n).astype(float),
            rng.random((n, 3)) < 0.3,
        ]
    ).astype(np.float32)
    x[rng.random(n) < 0.1, 0] = np.nan
    return x


def test_out_of_bag_probabilities_come_with_the_fit_and_a_setting_is_chosen():
    rng = np.random.default_rng(1)
    x = _features(rng, 300)
    y = (x[:, 3] > 0.5).astype(np.int64)  # one "rule" column decides
    trees = ExampleTrees(SCHEMA, np.zeros(0, np.int64), np.zeros(0, np.int64), 3)
    held_out = trees.fit(x, y, seed=0)
    assert held_out.shape == (300, 3)
    np.testing.assert_allclose(held_out.sum(axis=1), 1.0)
    assert (held_out.argmax(axis=1) == y).mean() > 0.95
    assert trees.setting in forest.FOREST_GRID


def test_below_few_rows_settings_rank_by_the_labels_mean_probability_not_accuracy():
    def ranked(n: int) -> list[int]:
        y = np.zeros(n, dtype=np.int64)
        # Setting 0 right on 60 % of the rows by a hair, wrong with conviction elsewhere;
        # setting 1 right on 50 % of them, never far from right.
        sure = np.empty((n, 3))
        sure[: 3 * n // 5] = [0.4, 0.35, 0.25]
        sure[3 * n // 5 :] = [0.05, 0.9, 0.05]
        mild = np.tile([[0.6, 0.3, 0.1], [0.4, 0.5, 0.1]], (n // 2, 1))
        scores = [forest.grid_score(out, y) for out in (sure, mild)]
        return sorted(range(2), key=lambda i: scores[i])

    assert ranked(forest.FEW_ROWS - 10) == [1, 0]  # mean probability 0.5 against 0.26
    assert ranked(forest.FEW_ROWS + 10) == [0, 1]  # accuracy 0.6 against 0.5


def test_rules_firing_on_two_examples_or_more_get_columns_most_covering_first(monkeypatch):
    assert rule_columns(np.array([0, 1, 2, 9, 5])).tolist() == [2, 3, 4]
    monkeypatch.setattr(forest, "MAX_RULE_COLUMNS", 2)
    assert rule_columns(np.array([0, 1, 2, 9, 5])).tolist() == [3, 4]


def test_the_forest_gives_way_where_a_rule_it_barely_saw_fires():
    fired = np.array([[True, False, True], [False, False, True]])  # rules × rows
    # Rule 0 seen on 10 examples, rule 1 on one (half of SEEN): row 2 gets half support.
    np.testing.assert_allclose(rule_support(fired, np.array([10, 1])), [1.0, 1.0, 0.5])
    np.testing.assert_allclose(rule_support(fired, np.array([0, 10])), [0.0, 1.0, 0.0])


def test_an_author_the_forest_disagrees_with_is_discounted():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 300)
    authors = np.repeat([0, 1, 2], 100)
    held_out = np.full((300, 3), 0.1)
    held_out[np.arange(300), y] = 0.8  # the forest agrees with authors 0 and 1 ...
    wrong = (y[200:] + 1) % 3
    held_out[200:] = 0.1
    held_out[np.arange(200, 300), wrong] = 0.8  # ... and never with author 2
    trust = author_trust(authors, y, held_out)
    assert trust[0] == pytest.approx(1.0) and trust[1] == pytest.approx(1.0)
    assert trust[2] < 0.05
    # Honest authors alike: nobody is discounted below RELEVANT.
    honest = author_trust(authors, y, np.eye(3)[y] * 0.7 + 0.1)
    np.testing.assert_allclose(honest, 1.0)


EXPERT = np.array([7.0, 1.0])  # evidence.RULE_PRIORS["expert"]
NOVICE = np.array([1.4, 0.6])


def test_the_rules_view_reads_a_row_by_the_rules_of_other_authors_only():
    # Author 0's rule says label 0 and author 1's label 1, both firing everywhere; rows 0-1
    # are author 0's, rows 2-3 author 1's, row 4 author 2's where only their own rule fires.
    fired = np.array([[1, 1, 1, 1, 0], [1, 1, 1, 1, 0], [0, 0, 0, 0, 1]], dtype=bool)
    said = rules_view(
        fired,
        y=np.array([0, 0, 1, 1, 2]),
        weights=np.ones(5),
        authors=np.array([0, 0, 1, 1, 2]),
        rule_labels=np.array([0, 1, 2]),
        rule_authors=np.array([0, 1, 2]),
        prior=np.tile(EXPERT, (3, 1)),
        n_labels=3,
    )
    assert said[:2].argmax(axis=1).tolist() == [1, 1]  # author 1's rule, not their own
    assert said[2:4].argmax(axis=1).tolist() == [0, 0]
    assert np.isnan(said[4]).all()  # no other author's rule fires there
    np.testing.assert_allclose(said[:4].sum(axis=1), 1.0)


def test_a_rule_in_the_rules_view_is_judged_by_examples_of_neither_its_author_nor_the_judged():
    # Rule 0 (author 1, a novice; label 0) fires on every row. Author 0's two rows say 0, author 1's
    # four say 0 as their rule does, and what the six rows of author 2 say decides it.
    fired = np.ones((1, 12), dtype=bool)
    authors = np.array([0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2])

    def own_label(third_says: int) -> float:
        y = np.array([0, 0, 0, 0, 0, 0, *[third_says] * 6])
        said = rules_view(
            fired, y, np.ones(12), authors, np.array([0]), np.array([1]), NOVICE[None], 3
        )
        return float(said[0, 0])  # what it says of author 0's label, 0

    # Author 2 agrees: the rule is trusted beyond its prior, and author 0's label with it.
    assert own_label(0) > 0.6
    # Author 2 contradicts: trusted at 1.4 / 8, below a coin, so author 0's label 0 is
    # doubted (the rule votes against its label). Had author 1's own four examples counted
    # too, 5.4 / 12: above a coin, and author 0's label backed.
    assert own_label(1) < 1 / 3


def test_an_author_whose_examples_every_view_doubts_loses_more_with_less_shrink():
    rng = np.random.default_rng(2)
    y = rng.integers(0, 3, 40)
    authors = np.repeat([0, 1, 2, 3], 10)
    held_out = np.full((40, 3), 0.2)
    held_out[np.arange(40), y] = 0.6  # the views back authors 0-2 ...
    held_out[30:] = 0.3
    held_out[np.arange(30, 40), y[30:]] = 0.4  # ... and doubt author 3's ten labels
    light = author_trust(authors, y, held_out, shrink=5.0)
    heavy = author_trust(authors, y, held_out)  # TRUST_SHRINK, 10 pseudo-examples
    assert light[3] < heavy[3] < 1.0
    np.testing.assert_allclose(light[:3], heavy[:3])


def test_with_few_examples_the_forest_has_a_floor_that_fades_as_examples_come():
    from mola.engine.learning.blending import forest_floor

    # k / (1 + k) is the forest's share of the answer where it has support.
    assert forest_floor(20) == forest_floor(50) == pytest.approx(1.0)  # half and half
    assert forest_floor(100) == pytest.approx(1 / 3)  # a quarter
    assert forest_floor(50) > forest_floor(100) > forest_floor(149) > 0
    assert forest_floor(150) == forest_floor(100_000) == 0.0


def test_a_cancellable_forest_grows_in_parts_and_is_the_same_forest():
    rng = np.random.default_rng(3)
    x = _features(rng, 300)
    y = ((x[:, 0] > 0) + (x[:, 3] > 0.5)).astype(np.int64)
    whole = ExampleTrees(SCHEMA, np.zeros(0, np.int64), np.zeros(0, np.int64), 3)
    whole_oob = whole.fit(x, y, seed=0)
    asked = []
    parts = ExampleTrees(SCHEMA, np.zeros(0, np.int64), np.zeros(0, np.int64), 3)
    parts_oob = parts.fit(x, y, seed=0, cancelled=lambda: asked.append(1))
    # Between the grid's forests, and between the parts of each (a refine gives way fast).
    per_forest = -(-forest.FOREST_TREES // forest.TREES_PER_PART) - 1
    assert len(asked) == len(forest.FOREST_GRID) * (per_forest + 1) - 1
    np.testing.assert_array_equal(parts_oob, whole_oob)
    queries = _features(np.random.default_rng(4), 200)
    np.testing.assert_array_equal(parts.probabilities(queries), whole.probabilities(queries))
    assert parts.model.n_jobs == 1 and not parts.model.warm_start  # stored as before


def test_a_settled_setting_is_fitted_without_a_search(monkeypatch):
    rng = np.random.default_rng(5)
    x = _features(rng, 300)
    y = (x[:, 3] > 0.5).astype(np.int64)
    searched = ExampleTrees(SCHEMA, np.zeros(0, np.int64), np.zeros(0, np.int64), 3)
    searched.fit(x, y, seed=0)
    assert searched.searched_rows == 300
    # Beyond GRID_ROWS, within SETTLED_CHANGE of the rows searched on: kept, not searched.
    monkeypatch.setattr(forest, "GRID_ROWS", 100)
    assert forest_trust.settled_setting(searched, 320) == (searched.setting, 300)
    assert forest_trust.settled_setting(searched, 331) is None  # 10 % more examples: search again
    assert forest_trust.settled_setting(searched, 269) is None
    assert forest_trust.settled_setting(None, 300) is None
    monkeypatch.setattr(forest, "GRID_ROWS", 4_000)
    assert forest_trust.settled_setting(searched, 300) is None  # a search is cheap here
    other = next(s for s in forest.FOREST_GRID if s != searched.setting)
    asked = []
    kept = ExampleTrees(SCHEMA, np.zeros(0, np.int64), np.zeros(0, np.int64), 3)
    kept.fit(x, y, seed=0, settled=(other, 290), cancelled=lambda: asked.append(1))
    assert kept.setting == other and kept.searched_rows == 290  # it was not searched here
    assert len(asked) == -(-forest.FOREST_TREES // forest.TREES_PER_PART) - 1  # one forest


def test_a_doubted_authors_counterexample_vetoes_the_forest_in_proportion_to_their_trust():
    from mola.engine.learning.blending import tree_evidence

    said = np.array([[0.9, 0.1]])  # the forest says label 0 at the row ...
    found = np.array([[0]])  # ... whose nearest stored example, at distance 0,
    squared = np.zeros((1, 1), dtype=np.float32)
    labels = np.array([1])  # is a counterexample labelled 1
    full = tree_evidence(said, np.ones(1), found, squared, np.array([True]), labels, 1.0, 1.0)
    np.testing.assert_allclose(full, [[0.0, 1.0]])  # a trusted author's: its label in full
    doubted = tree_evidence(said, np.ones(1), found, squared, np.array([0.25]), labels, 1.0, 1.0)
    np.testing.assert_allclose(doubted, [[0.675, 0.325]])  # 0.75 × forest + 0.25 × its label


def test_rows_with_other_rules_firing_encode_as_if_encoded_afresh():
    """with_rules: the forest's input for another firing of the same rows, from the first."""
    rng = np.random.default_rng(3)
    n_rules, n_rows = 6, 40
    # Columns for rules 4, 0, 2 and one whose rule is gone (-1); rules 1, 3, 5 have none.
    trees = ExampleTrees(SCHEMA, np.array([0]), np.array([4, 0, -1, 2]), 3)
    table = table_from_rows(
        SCHEMA,
        [
            {"height": float(h), "kind": "abcde"[k], "tired": bool(t)}
            for h, k, t in zip(
                rng.integers(0, 150, n_rows),
                rng.integers(0, 5, n_rows),
                rng.integers(0, 2, n_rows),
                strict=True,
            )
        ],
    )
    held = rng.random((1, n_rows)) < 0.5
    was = rng.random((n_rules, n_rows)) < 0.4
    fired = was.copy()
    fired[rng.random((n_rules, n_rows)) < 0.2] ^= True  # some switched on, some off
    picked = rng.integers(0, n_rows, 25)  # rows repeat, as (rule, row) variants do
    afresh = trees.encode(table_take(table, picked), fired[:, picked], held[:, picked])
    x = trees.encode(table, was, held)
    reused = trees.with_rules(x[picked], fired[:, picked], was[:, picked])
    np.testing.assert_array_equal(reused, afresh)
    assert not np.array_equal(x[picked], afresh)  # the firing did change some columns
