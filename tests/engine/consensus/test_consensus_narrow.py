"""``shown_refreshed`` after example edits in a dense world: most rules are suspect (most
examples in their region disagree) and every example lies in several rules, so an edit moves
suspect ranks and the evidence of some pairs but not of others. The refreshed set must equal
the from-scratch one after every edit, including the pairs an affected rule forms with rules
the edit did not touch (rebuilt when its rank moved, kept as they were otherwise). And a
rule's disagreeing examples grouped with array steps as a plain loop groups them."""

from __future__ import annotations

import random

import pytest

from mola.engine.consensus import (
    RULE_EXCEPTION,
    RULE_OVERLAP,
    ConsensusIndex,
    ExampleItem,
    Ref,
    RuleItem,
)
from mola.engine.consensus.shown import shown_all, shown_refreshed
from mola.engine.language import compile_condition
from mola.engine.schema import Schema

LABELS = ("a", "b", "c")
SCHEMA = Schema.from_dicts(
    [
        {"name": "x", "kind": "number", "min": 0, "max": 100},
        {"name": "y", "kind": "number", "min": 0, "max": 100},
    ],
    [{"name": label} for label in LABELS],
)


def _rule(rng: random.Random, rule_id: int) -> RuleItem:
    x, y = rng.uniform(0, 60), rng.uniform(0, 60)
    text = f"x between {x:.1f} and {x + rng.uniform(20, 50):.1f} and "
    text += f"y between {y:.1f} and {y + rng.uniform(20, 50):.1f}"
    region = compile_condition(text, SCHEMA).region
    return RuleItem(rule_id, rng.choice(LABELS), "anna", region, text)


def _example(rng: random.Random, example_id: int) -> ExampleItem:
    point = {"x": round(rng.uniform(0, 100), 1), "y": round(rng.uniform(0, 100), 1)}
    return ExampleItem(example_id, rng.choice(LABELS), "ben", point)


def _pairs(found: dict) -> dict:
    return {key: c for key, c in found.items() if c.kind in (RULE_OVERLAP, RULE_EXCEPTION)}


def _seeded(rng: random.Random) -> ConsensusIndex:
    """An index of 15 random rules and 80 random examples."""
    index = ConsensusIndex(SCHEMA)
    for rule_id in range(1, 16):
        index.replace(_rule(rng, rule_id))
    for example_id in range(1, 81):
        index.replace(_example(rng, example_id))
    return index


@pytest.mark.parametrize("seed", range(4))
def test_example_edits_refresh_exactly_what_a_recompute_finds(seed: int) -> None:
    rng = random.Random(seed)
    index = _seeded(rng)
    current = shown_all(index)
    ranks_moved = kept_pairs = 0
    for _ in range(40):
        ranks = {i: index.facts(r).standing.rank for i, r in index.rules.items()}
        if rng.random() < 0.15:
            affected = index.remove(Ref("example", rng.randint(1, 80)))
        else:
            affected = index.replace(_example(rng, rng.randint(1, 90)))
        before = current
        current = shown_refreshed(current, index, affected)
        assert current == shown_all(index)
        moved = {i for i, r in index.rules.items() if index.facts(r).standing.rank != ranks[i]}
        ranks_moved += len(moved)
        kept_pairs += sum(1 for k, c in _pairs(current).items() if before.get(k) is c)
    # The edits did move ranks, and pairs were carried over unvisited.
    assert ranks_moved and kept_pairs


@pytest.mark.parametrize("seed", range(3))
def test_disagreeing_examples_grouped_with_arrays_equal_a_plain_grouping(seed: int) -> None:
    """``examples_against_groups`` against a loop over ``examples_against``: groups of every
    size, counterexamples among them (some refute the rule, others another rule)."""
    rng = random.Random(seed)
    index = ConsensusIndex(SCHEMA)
    for rule_id in range(1, 9):
        index.replace(_rule(rng, rule_id))
    for example_id in range(1, 121):
        item = _example(rng, example_id)
        refutes = rng.choice([None, None, None, rng.randint(1, 8)])
        index.replace(ExampleItem(item.id, item.label, item.author, item.point, refutes))
    for first in (1, 3, 5):
        for rule_id in index.rules:
            groups: dict[tuple[int, bool], list[int]] = {}
            for example_id in index.examples_against(rule_id):
                example = index.examples.items[example_id]
                group = (index.label_code(example.label), example.refutes == rule_id)
                groups.setdefault(group, []).append(example_id)
            expected = [(*group, ids[:first], len(ids)) for group, ids in groups.items()]
            assert index.examples_against_groups(rule_id, first) == expected


# "y" has no bounds: "the same case" is measured against the examples' own spread.
OPEN_SCHEMA = Schema.from_dicts(
    [{"name": "x", "kind": "number", "min": 0, "max": 100}, {"name": "y", "kind": "number"}],
    [{"name": label} for label in LABELS],
)


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("schema", [SCHEMA, OPEN_SCHEMA])
def test_an_index_built_at_once_equals_one_built_teaching_by_teaching(
    seed: int, schema: Schema
) -> None:
    """``build`` skips what each example affects; the contradictions found, and those kept
    current after edits, are the same."""
    rng = random.Random(seed)
    items = [_rule(rng, rule_id) for rule_id in range(1, 13)]
    items += [_example(rng, example_id) for example_id in range(1, 61)]
    items.insert(15, _example(rng, 2))  # the same example twice: the later one stands
    near = [(i, e) for i, e in enumerate(items) if isinstance(e, ExampleItem)][:10]
    for i, e in near:  # pairs of examples at nearly the same point, other labels
        point = {"x": e.point["x"], "y": round(e.point["y"] + rng.uniform(-2, 2), 1)}
        items.append(ExampleItem(100 + i, rng.choice(LABELS), "ben", point))
    one_by_one, at_once = ConsensusIndex(schema), ConsensusIndex(schema)
    for item in items:
        one_by_one.replace(item)
    at_once.build(items)
    assert shown_all(at_once) == shown_all(one_by_one)
    assert at_once.detect_all() == one_by_one.detect_all()
    current = shown_all(at_once)
    for _ in range(10):
        item = _example(rng, rng.choice([*range(1, 70), *range(100, 112)]))
        one_by_one.replace(item)
        current = shown_refreshed(current, at_once, at_once.replace(item))
        assert current == shown_all(one_by_one)


@pytest.mark.parametrize("seed", range(3))
def test_a_refresh_changes_exactly_the_keys_whose_contradiction_moved(seed: int) -> None:
    """The store and the threads take a key whose object is the one they saw as unchanged:
    a contradiction built again equal to the shown one must come back as that object, and
    ``changed`` must name exactly the keys that came, went or differ."""
    rng = random.Random(seed)
    index = _seeded(rng)
    current = shown_all(index)
    kept_equal = 0
    for _ in range(30):
        affected = index.replace(_example(rng, rng.randint(1, 90)))
        before = dict(current)
        current = shown_refreshed(current, index, affected)
        differing = {k for k in before.keys() | current.keys() if before.get(k) != current.get(k)}
        assert set(current.changed) == differing
        for key in current.keys() & before.keys():
            assert (current[key] is before[key]) == (current[key] == before[key])
        kept_equal += sum(1 for key in current if before.get(key) is current[key])
    assert kept_equal


@pytest.mark.parametrize("seed", range(3))
def test_a_pair_whose_words_did_not_move_is_not_built_again(seed: int) -> None:
    """A suspect rule's rank moving under a pair that a more suspect partner ranks leaves
    the pair as it was: ``rule_pair`` hands back the very object it built before (and the
    pair stays "at standing"), rather than building an equal one for ``_kept`` to find."""
    rng = random.Random(seed)
    index = _seeded(rng)
    current = shown_all(index)
    reused = 0
    for _ in range(40):
        ranks = {i: index.facts(r).standing.rank for i, r in index.rules.items()}
        affected = index.replace(_example(rng, rng.randint(1, 90)))
        before = current
        current = shown_refreshed(current, index, affected)
        assert current == shown_all(index)
        for key, found in _pairs(current).items():
            a, b = found.teachings
            moved = ranks.get(a.id) != index.facts(index.rules[a.id]).standing.rank
            moved |= ranks.get(b.id) != index.facts(index.rules[b.id]).standing.rank
            if moved and before.get(key) == found:
                assert before[key] is found and index.pairs[(a.id, b.id)].found is found
                reused += 1
    assert reused
