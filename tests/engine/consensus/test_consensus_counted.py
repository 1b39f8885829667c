"""A rule contradiction carries its words without the counts and shows them from its rules'
counts (``counted``): after example edits, what it shows equals what a fresh index shows,
and an edit that moves only the counts keeps the contradiction's object."""

from __future__ import annotations

import random

import pytest

from mola.engine.consensus import RULE_EXAMPLE, ConsensusIndex, Ref
from mola.engine.consensus.counted import index_rendered, rule_counts
from mola.engine.consensus.shown import shown_all, shown_refreshed
from tests.engine.consensus.test_consensus_narrow import SCHEMA, _example, _seeded


def _fresh(index: ConsensusIndex) -> ConsensusIndex:
    fresh = ConsensusIndex(SCHEMA)
    fresh.build([*(rule.item for rule in index.rules.values()), *index.examples.items.values()])
    return fresh


@pytest.mark.parametrize("seed", range(3))
def test_shown_counts_after_edits_equal_a_fresh_index(seed: int) -> None:
    rng = random.Random(seed)
    index = _seeded(rng)
    current = shown_all(index)
    for step in range(25):
        if rng.random() < 0.15:
            affected = index.remove(Ref("example", rng.randint(1, 80)))
        else:
            affected = index.replace(_example(rng, rng.randint(1, 90)))
        current = shown_refreshed(current, index, affected)
        if step % 5:
            continue
        fresh = _fresh(index)
        again = shown_all(fresh)
        assert current.keys() == again.keys()
        for key, found in current.items():
            assert index_rendered(index, found) == index_rendered(fresh, again[key]), key
        for rule_id in index.rules:
            assert rule_counts(index, rule_id) == rule_counts(fresh, rule_id)


def test_a_rule_example_shows_its_rules_counts_and_how_many_more() -> None:
    index = _seeded(random.Random(1))
    found = [c for c in shown_all(index).values() if c.kind == RULE_EXAMPLE and not c.expected]
    assert found and all(c.evidence == {} and "examples there" not in c.note for c in found)
    for c in found:
        rule_id = next(ref.id for ref in c.teachings if ref.type == "rule")
        counts = rule_counts(index, rule_id)
        evidence, note = index_rendered(index, c)
        assert evidence == {
            name: len(ids) for name, ids in counts.examples.items() if ids or name == counts.label
        } | {c.counted[1]: counts.count(c.counted[1])}
        assert note.startswith(c.note) or "likely mistake" in note.split(". ")[0]
        more = counts.against[(c.counted[1], False)] - 5
        assert (f"{more} more example" in note) == (more > 0)
