"""A fit that reuses what the previous fit of the space left (``FitCache``) learns exactly
the model a fit from scratch learns, and converts only the rows it has not seen."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from bench.synthetic import synthetic_snapshot
from mola.engine.learning import fit
from mola.engine.learning.arrays import TableCache, rows_to_table
from mola.engine.learning.caching import FitCache
from mola.engine.schema import Label, Schema
from mola.engine.table import table_from_rows


@pytest.fixture(scope="module")
def generated():
    world, snapshot = synthetic_snapshot((40, 12, 600), seed=3)
    probe = table_from_rows(snapshot.schema, world.sample_rows(200, np.random.default_rng(4)))
    extra = world.sample_rows(5, np.random.default_rng(5))
    return snapshot, probe, extra


def _same_model(snapshot, cache: FitCache, probe) -> None:
    cached = fit(snapshot, random_state=0, cache=cache)
    fresh = fit(snapshot, random_state=0)
    np.testing.assert_array_equal(cached.predict_proba(probe), fresh.predict_proba(probe))
    ignore = {"timings", "training_seconds"}
    assert {k: v for k, v in cached.metrics_.items() if k not in ignore} == {
        k: v for k, v in fresh.metrics_.items() if k not in ignore
    }
    # The kept masks are what matching every row again gives.
    fired, held = cached.matcher_.match(cache.masks.table)
    np.testing.assert_array_equal(cache.masks.masks, np.concatenate([fired, held]))


def test_a_series_of_retrains_with_a_cache_learns_what_fits_from_scratch_learn(generated):
    snapshot, probe, extra = generated
    cache = FitCache()
    examples = list(snapshot.examples)
    _same_model(snapshot, cache, probe)
    assert cache.tables.converted == len(examples)

    # Three new examples: only their rows are converted.
    template = examples[0]
    added = [
        dataclasses.replace(template, id=10_000 + i, features=row, evaluation=i == 2)
        for i, row in enumerate(extra[:3])
    ]
    step = dataclasses.replace(snapshot, examples=[*examples, *added])
    _same_model(step, cache, probe)
    assert cache.tables.converted == 3
    assert cache.masks.matched == 0  # the new rows alone were matched

    # One example edited (a new features mapping), one retired, one now disputed.
    edited = dataclasses.replace(examples[5], features=dict(extra[3]))
    disputed = dataclasses.replace(examples[6], disputed=True)
    changed = [*examples[:5], edited, disputed, *examples[8:], *added]
    step = dataclasses.replace(snapshot, examples=changed)
    _same_model(step, cache, probe)
    assert cache.tables.converted == 1
    assert cache.masks.matched == 0

    # A rule retired and another written; a concept retired: the conditions left are reused.
    rules = list(snapshot.rules)
    step = dataclasses.replace(
        step, rules=[*rules[1:], dataclasses.replace(rules[0], id=99_999, label=rules[1].label)]
    )
    _same_model(step, cache, probe)
    assert cache.masks.matched == 0  # the same conditions, in another order
    # A rule with a new condition: it alone is matched on every row.
    written = dataclasses.replace(rules[1], id=99_998, condition=_recompiled(rules[1].condition))
    step = dataclasses.replace(step, rules=[*step.rules, written])
    _same_model(step, cache, probe)
    assert cache.masks.matched == 1
    step = dataclasses.replace(step, concepts=list(snapshot.concepts)[1:])
    _same_model(step, cache, probe)
    assert cache.tables.converted == 0


def _recompiled(condition):
    """The same condition compiled again (a new region object, as after an edit)."""
    return dataclasses.replace(condition, region=dataclasses.replace(condition.region))


def test_a_cache_filled_for_another_schema_starts_again(generated):
    snapshot, probe, _ = generated
    cache = FitCache()
    _same_model(snapshot, cache, probe)
    renamed = Schema(snapshot.schema.features, (*snapshot.schema.labels, Label(name="a new label")))
    _same_model(dataclasses.replace(snapshot, schema=renamed), cache, probe)
    assert cache.tables.converted == len(snapshot.examples)


def test_the_table_cache_recognises_rows_by_identity_not_content(generated):
    snapshot, _, _ = generated
    rows = [e.features for e in snapshot.examples][:50]
    cache = TableCache()
    cache.table(snapshot.schema, rows)
    # An equal but new mapping is converted again (a caller must not mutate one it handed
    # in, and comparing contents would cost what converting does).
    copies = [rows[0], dict(rows[1]), *rows[2:]]
    table = cache.table(snapshot.schema, list(reversed(copies)))
    assert cache.converted == 1
    reference = rows_to_table(snapshot.schema, list(reversed(copies)))
    for name, column in reference.columns.items():
        np.testing.assert_array_equal(table.columns[name], column)


def test_a_space_that_had_no_examples_gets_its_first(generated):
    snapshot, probe, _ = generated
    cache = FitCache()
    _same_model(dataclasses.replace(snapshot, examples=[]), cache, probe)
    _same_model(snapshot, cache, probe)
    assert cache.tables.converted == len(snapshot.examples)
    _same_model(dataclasses.replace(snapshot, examples=[]), cache, probe)


def test_a_retrain_whose_conditions_are_the_same_objects_keeps_the_matcher(generated):
    snapshot, probe, extra = generated
    cache = FitCache()
    first = fit(snapshot, random_state=0, cache=cache)
    # An example written: the same matcher object (a model part named without pickling).
    added = dataclasses.replace(snapshot.examples[0], id=20_000, features=extra[0])
    grown = dataclasses.replace(snapshot, examples=[*snapshot.examples, added])
    kept = fit(grown, random_state=0, cache=cache, trees="reuse")
    assert kept.matcher_ is first.matcher_
    # The same conditions in another order, or one condition compiled again: a new one,
    # matching as a matcher built from scratch does.
    rules = list(snapshot.rules)
    for step in (
        dataclasses.replace(grown, rules=[*rules[1:], rules[0]]),
        dataclasses.replace(
            grown,
            rules=[
                *rules[:-1],
                dataclasses.replace(rules[-1], condition=_recompiled(rules[-1].condition)),
            ],
        ),
    ):
        changed = fit(step, random_state=0, cache=cache, trees="reuse")
        assert changed.matcher_ is not kept.matcher_
        fresh = fit(step, random_state=0, trees="reuse")
        for a, b in zip(changed.matcher_.match(probe), fresh.matcher_.match(probe), strict=True):
            np.testing.assert_array_equal(a, b)
        kept = changed


def test_kept_masks_silence_the_losers_of_precedences_as_matching_does(generated):
    """Precedences between rules that fire on the same rows: the counts taken from the
    kept masks are those of matching every row."""
    from mola.engine.learning import Precedence

    snapshot, probe, _ = generated
    model = fit(snapshot, random_state=0)
    fired, _ = model.matcher_.match(
        rows_to_table(snapshot.schema, [e.features for e in snapshot.examples])
    )
    rules = list(snapshot.rules)
    overlap = fired.astype(np.int64) @ fired.T.astype(np.int64)
    pairs = [
        Precedence(winner=rules[a].id, loser=rules[b].id)
        for a in range(len(rules))
        for b in range(len(rules))
        if a < b and rules[a].label != rules[b].label and 0 < overlap[a, b] < fired[b].sum()
    ][:5]
    assert pairs
    _same_model(dataclasses.replace(snapshot, precedences=pairs), FitCache(), probe)
