"""A model stored in parts (learning/parts.py): a quick retrain names the forest and boosting
member of the full fit it reuses instead of carrying them again, a version whose examples
did not change names the last one's neighbour index (and one whose rules did not, its
matcher), a process that holds them takes them
as they are, and the model answers bit for bit as a whole load of it does."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest

from bench.synthetic import synthetic_snapshot
from mola.engine.learning import TaughtModel, fit, parts
from mola.engine.learning.caching import FitCache
from mola.engine.table import table_from_rows


@pytest.fixture(scope="module")
def fitted():
    """A full fit (600 examples: a forest and a boosting member), the quick retrain after one
    more example that reuses its trees, one after a rule less, and rows to ask them."""
    world, snapshot = synthetic_snapshot((40, 12, 600), seed=5)
    cache = FitCache()
    refined = fit(snapshot, random_state=0, cache=cache)
    added = dataclasses.replace(snapshot.examples[0], id=10**6)
    later = dataclasses.replace(
        snapshot, examples=[*snapshot.examples, added], revision=snapshot.revision + 1
    )
    quick = fit(later, random_state=0, cache=cache, trees="reuse")
    fewer = dataclasses.replace(later, rules=later.rules[1:], revision=later.revision + 1)
    rule_gone = fit(fewer, random_state=0, cache=cache, trees="reuse")
    table = table_from_rows(snapshot.schema, world.sample_rows(200, np.random.default_rng(3)))
    return refined, quick, rule_gone, table


@pytest.fixture(autouse=True)
def fresh_process():
    """Each test starts as a process that holds no part."""
    parts.forget()
    yield
    parts.forget()


def _stored(model: TaughtModel) -> tuple[bytes, dict[str, bytes]]:
    data, named = parts.dump(model)
    return data, {digest: part() for digest, part in named.items()}


def _assert_same_answers(a: TaughtModel, b: TaughtModel, table) -> None:
    np.testing.assert_array_equal(a.predict_proba(table), b.predict_proba(table))
    assert [e.as_dict() for e in a.explain(table)] == [e.as_dict() for e in b.explain(table)]


def test_a_quick_version_names_the_full_fits_forest_and_member(fitted):
    refined, quick, rule_gone, _ = fitted
    assert quick.trees_.model is refined.trees_.model and quick.trees_.booster is not None
    _, of_refined = parts.dump(refined)
    quick_data, of_quick = _stored(quick)
    _, of_rule_gone = parts.dump(rule_gone)
    # Forest, member and matcher shared; the examples' index is the quick version's own (an
    # example more), and the next version's too, where only a rule went (a matcher of its own).
    assert len(of_quick) == 4 and len(set(of_quick) & set(of_refined)) == 3
    assert len(set(of_rule_gone) & set(of_quick)) == 3
    # The quick artefact is what it was without them.
    whole = len(quick.to_bytes())
    assert len(quick_data) < whole - sum(map(len, of_quick.values())) + 1_000


def test_a_process_that_holds_the_parts_takes_them_and_answers_as_a_whole_load(fitted):
    refined, quick, rule_gone, table = fitted
    refined_data, stored = _stored(refined)
    quick_data, more = _stored(quick)
    later_data, later = _stored(rule_gone)
    stored |= more | later
    parts.forget()  # another process: it reads what was stored
    asked = []

    def read(digest: str) -> bytes:
        asked.append(digest)
        return stored[digest]

    served_refined = parts.load(refined_data, read)
    served_quick = parts.load(quick_data, read)
    served_later = parts.load(later_data, read)
    assert sorted(asked) == sorted(stored) and len(asked) == len(set(asked))  # each read once
    assert served_quick.trees_.model is served_refined.trees_.model
    assert served_quick.trees_.booster is served_refined.trees_.booster
    # And so the forest's flat walk, with the path tables a warm-up builds (forest.py).
    served_refined.prepare()
    assert served_quick.trees_.walker() is served_refined.trees_.walker()
    assert served_later.examples_.index is served_quick.examples_.index
    assert served_quick.matcher_ is served_refined.matcher_  # an example more: the same rules

    for model, data, fitted_one in (
        (served_quick, quick_data, quick),
        (served_later, later_data, rule_gone),
    ):
        parts.forget()  # a process that loads this version alone
        alone = parts.load(data, stored.__getitem__)
        assert alone.trees_.model is not served_refined.trees_.model
        _assert_same_answers(model, alone, table)
        _assert_same_answers(model, TaughtModel.from_bytes(fitted_one.to_bytes()), table)
        _assert_same_answers(model, fitted_one, table)


def test_a_whole_artefact_still_loads_and_something_else_is_refused(fitted):
    refined, _, _, table = fitted
    _assert_same_answers(parts.load(refined.to_bytes(), {}.__getitem__), refined, table)
    with pytest.raises(ValueError):
        parts.load(__import__("pickle").dumps((99, "model")), {}.__getitem__)


def _edited(snapshot, examples):
    return dataclasses.replace(snapshot, examples=examples, revision=snapshot.revision + 1)


@pytest.fixture(scope="module")
def written():
    """As a worker stores them: a full fit, then quick ones after an example added, one
    edited and one deleted, each stored before the next fit (``parts.dump``)."""
    parts.forget()
    world, snapshot = synthetic_snapshot((40, 12, 600), seed=7)
    cache = FitCache()
    models = [fit(snapshot, random_state=0, cache=cache)]
    stored = [_stored(models[-1])]
    added = dataclasses.replace(snapshot.examples[3], id=10**6)
    first = snapshot.examples[40]
    label = next(label for label in snapshot.schema.labels if label != first.label)
    edited = dataclasses.replace(first, label=label)
    steps = [
        [*snapshot.examples, added],
        [*snapshot.examples[:40], edited, *snapshot.examples[41:], added],
        [*snapshot.examples[:40], edited, *snapshot.examples[42:], added],
    ]
    for examples in steps:
        snapshot = _edited(snapshot, examples)
        models.append(fit(snapshot, random_state=0, cache=cache, trees="reuse"))
        stored.append(_stored(models[-1]))
    table = table_from_rows(snapshot.schema, world.sample_rows(200, np.random.default_rng(4)))
    parts.forget()
    return models, stored, table


def test_a_quick_index_is_stored_as_a_small_delta_of_the_one_before(written):
    models, stored, table = written
    everything = {}
    for _, named in stored:
        everything |= named
    for (_, before), (_, after) in itertools.pairwise(stored):
        new = set(after) - set(before)
        assert len(new) == 1 and len(after[next(iter(new))]) < 3_000  # the delta alone
        assert len(set(after) & set(before)) == len(before)  # its chain: every base named
    # A process that serves each version in turn reads only each one's delta, and each
    # answers bit for bit as the model fitted (and as a whole load of it).
    asked = []

    def read(digest: str) -> bytes:
        asked.append(digest)
        return everything[digest]

    for model, (data, _) in zip(models, stored, strict=True):
        asked.clear()
        served = parts.load(data, read)
        assert len(asked) == (4 if model is models[0] else 1)
        _assert_same_answers(served, model, table)
        _assert_same_answers(served, TaughtModel.from_bytes(model.to_bytes()), table)
    parts.forget()  # one that loads the last alone: the whole chain
    alone = parts.load(stored[-1][0], everything.__getitem__)
    _assert_same_answers(alone, models[-1], table)
    np.testing.assert_array_equal(alone.examples_.index._points, models[-1].examples_.index._points)


def _index_part(stored: tuple[bytes, dict[str, bytes]]) -> bytes:
    data, named = stored
    return named[__import__("pickle").loads(data)[1].examples_.index.digest]


def test_a_chain_of_deltas_is_bounded(monkeypatch):
    monkeypatch.setattr(parts, "MAX_DELTAS", 1)
    _, snapshot = synthetic_snapshot((40, 12, 600), seed=8)
    cache = FitCache()
    sizes = [len(_index_part(_stored(fit(snapshot, random_state=0, cache=cache))))]
    for step in range(2):
        extra = dataclasses.replace(snapshot.examples[step], id=10**6 + step)
        snapshot = _edited(snapshot, [*snapshot.examples, extra])
        model = fit(snapshot, random_state=0, cache=cache, trees="reuse")
        sizes.append(len(_index_part(_stored(model))))
    # Whole, a delta of it, then whole again (the chain was full).
    assert sizes[0] > 50_000 and sizes[1] < 3_000 and sizes[2] > 50_000
    monkeypatch.setattr(parts, "MAX_DELTA_SHARE", 0.0)  # any delta is too large: whole
    extra = dataclasses.replace(snapshot.examples[5], id=10**7)
    snapshot = _edited(snapshot, [*snapshot.examples, extra])
    model = fit(snapshot, random_state=0, cache=cache, trees="reuse")
    assert len(_index_part(_stored(model))) > 50_000
