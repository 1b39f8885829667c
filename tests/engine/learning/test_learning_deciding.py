"""The deciding rules of an explanation (deciding.py) are what their definition says: each
voting rule switched off through the whole model, at any chunking; and the forest's support
without one rule is the minimum over the others."""

from __future__ import annotations

import numpy as np
import pytest

from mola.engine.learning.deciding import _support_without
from mola.engine.learning.forest import rule_support


def test_the_support_without_a_rule_is_the_minimum_over_the_others():
    rng = np.random.default_rng(4)
    fired = rng.random((12, 300)) < 0.4  # rules × rows
    coverage = rng.choice([0, 1, 1, 2, 5], 12)  # ties on purpose: two rules at 1 on a row
    rules, rows = np.nonzero(fired)
    variants = fired[:, rows]
    variants[rules, np.arange(len(rows))] = False
    expected = rule_support(variants, coverage)
    np.testing.assert_array_equal(_support_without(fired, coverage, rows, rules), expected)
    assert len(np.unique(expected)) == 3  # 0, 0.5 and 1 all occur
    assert (expected != rule_support(fired, coverage)[rows]).any()  # switching one matters


def _deciding_by_deletion(model, table) -> list[set[int]]:
    """Each row's deciding rule ids by their definition (deciding.py), every variant a whole
    model pass: ``predict_proba`` with the rule switched off at that row."""
    from mola.engine.learning.arrays import table_take
    from mola.engine.learning.deciding import DECIDING_DROP
    from mola.engine.learning.evidence import suppress_losers

    rules = model.rules_
    probabilities = model.predict_proba(table)
    label = probabilities.argmax(axis=1)
    fired, _ = model.matcher_.match(table)
    fired = suppress_losers(fired, rules.winners, rules.losers)
    positions, rows = np.nonzero(fired & (rules.votes[:, label] > 0))
    ids = rules.ids[positions].tolist()
    after = model.predict_proba(table_take(table, rows), without=[{i} for i in ids])
    drop = probabilities[rows, label[rows]] - after[np.arange(len(rows)), label[rows]]
    deciding: list[dict[int, float]] = [{} for _ in range(table.n_rows)]
    for row, rule_id, fall in zip(rows.tolist(), ids, drop.tolist(), strict=True):
        if fall > DECIDING_DROP:
            deciding[row][rule_id] = fall
    several = [i for i, named in enumerate(deciding) if len(named) > 1]
    if several:
        together = model.predict_proba(
            table_take(table, np.array(several)), without=[set(deciding[i]) for i in several]
        )
        for i, row in enumerate(several):
            if probabilities[row, label[row]] - together[i, label[row]] <= DECIDING_DROP:
                strongest = max(deciding[row], key=deciding[row].get)
                deciding[row] = {strongest: 0.0}
    return [set(named) for named in deciding]


@pytest.mark.parametrize(("pairs", "rows"), [(None, None), (97, 150)])
def test_deciding_rules_are_those_whose_deletion_through_the_whole_model_lowers_the_label(
    monkeypatch, pairs, rows
):
    """The deciding rules recompute only what a switched rule changes (the forest only in
    the trees that test it on the row), in chunks of pairs and blocks of rows: they must be
    what switching each rule off through the whole model says, at any chunking."""
    from bench.synthetic import synthetic_snapshot
    from mola.engine.learning import deciding, fit, model
    from mola.engine.table import table_from_rows

    world, snapshot = synthetic_snapshot((40, 10, 600), seed=1)
    taught = fit(snapshot, random_state=1)
    table = table_from_rows(snapshot.schema, world.sample_rows(400, np.random.default_rng(2)))
    expected = _deciding_by_deletion(taught, table)
    if pairs is not None:
        monkeypatch.setattr(deciding, "PAIRS_PER_CHUNK", pairs)
        monkeypatch.setattr(model, "ROWS_PER_PART", rows)
    explained = taught.explain(table)
    got = [{r["id"] for r in e.rules if r["decides"]} for e in explained]
    assert got == expected
    assert sum(map(len, got)) > 100  # rules do decide here


@pytest.mark.parametrize("rows", [None, 50])
def test_deciding_rules_read_the_boosting_member_again_where_it_splits_on_the_rule(
    monkeypatch, rows
):
    """With a boosting member beside the forest (forest_boost.py; forced here at 600
    examples, half the forest's answer), a switched rule moves its answer too: the deciding
    rules must still be what switching each rule off through the whole model says — in
    blocks of 50 rows too (the member's trees walked in numpy, not read by value)."""
    from bench.synthetic import synthetic_snapshot
    from mola.engine.learning import fit, forest_boost, model
    from mola.engine.table import table_from_rows

    monkeypatch.setattr(forest_boost, "BOOST_ROWS", (0, 10_000))
    monkeypatch.setattr(forest_boost, "BOOST_SHARES", (0.5,))
    world, snapshot = synthetic_snapshot((40, 10, 600), seed=1)
    taught = fit(snapshot, random_state=1)
    booster = taught.trees_.booster
    assert booster is not None and booster.share == 0.5 and booster.uses.any()
    table = table_from_rows(snapshot.schema, world.sample_rows(400, np.random.default_rng(2)))
    expected = _deciding_by_deletion(taught, table)
    if rows is not None:
        monkeypatch.setattr(model, "ROWS_PER_PART", rows)
    got = [{r["id"] for r in e.rules if r["decides"]} for e in taught.explain(table)]
    assert got == expected
    assert sum(map(len, got)) > 100


def test_a_prepared_model_builds_nothing_on_its_first_explanation(monkeypatch):
    """``prepare`` (a new version's warm-up in a web process) builds the trees' path tables
    that the deciding rules read — the forest's and the boosting member's — so a version's
    first explained call does not (a warm-up's empty row fires no rule and never reached
    them); the explanations are the same either way."""
    from bench.synthetic import synthetic_snapshot
    from mola.engine.learning import TaughtModel, fit, forest_boost
    from mola.engine.table import table_from_rows

    monkeypatch.setattr(forest_boost, "BOOST_ROWS", (0, 10_000))
    monkeypatch.setattr(forest_boost, "BOOST_SHARES", (0.5,))
    world, snapshot = synthetic_snapshot((40, 10, 600), seed=1)
    stored = fit(snapshot, random_state=1).to_bytes()
    cold, warm = TaughtModel.from_bytes(stored), TaughtModel.from_bytes(stored)
    assert warm.trees_.booster is not None
    warm.prepare()
    forest, member = warm.trees_.walker(), warm.trees_.booster.walker()
    built = (forest._tested, member._tested, member._trees_on)
    assert all(table is not None for table in built)

    table = table_from_rows(snapshot.schema, world.sample_rows(50, np.random.default_rng(3)))
    explained = [e.as_dict() for e in warm.explain(table)]
    assert explained == [e.as_dict() for e in cold.explain(table)]
    assert sum(r["decides"] for e in explained for r in e["explanation"]["rules"]) > 10
    now = (forest._tested, member._tested, member._trees_on)
    assert all(after is before for after, before in zip(now, built, strict=True))
    assert cold.trees_.walker()._tested is not None  # what its first explanation built
