"""What is stored of the contradictions found: one rule's disagreeing examples a few per label,
the same whether kept current incrementally or recomputed from scratch."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given

from consensus.evidence import contradiction_shown
from consensus.models import Contradiction
from consensus.services import consensus_check, consensus_recompute
from mola.engine.consensus import ConsensusIndex, ExampleItem, RuleItem
from mola.engine.consensus import shown as shown_module
from mola.engine.consensus.counted import index_rendered
from mola.engine.consensus.shown import shown, shown_all, shown_refreshed
from mola.engine.language import compile_condition
from teaching.models import Example, Rule
from teaching.services.examples import example_create
from teaching.services.rules import rule_create
from tests.engine.consensus.test_consensus_properties import SETTINGS, apply_edit, edit_sequences
from tests.factories import row


@given(edit_sequences())
@SETTINGS
def test_incremental_shown_set_equals_the_shown_set_from_scratch(sequence: Any) -> None:
    """The engine's incremental = from-scratch property, for what is stored; with one
    example shown per group so the bound bites in these small worlds (ids 1-5)."""
    schema, steps = sequence
    index = ConsensusIndex(schema)
    current: dict = {}
    shown_before, shown_module.RULE_EXAMPLES_SHOWN = shown_module.RULE_EXAMPLES_SHOWN, 1
    try:
        for step in steps:
            before = current
            current = shown_refreshed(current, index, apply_edit(index, schema, step))
            assert current == shown(index, index.detect_all()) == shown_all(index)
            # What a caller that kept ``before`` revisits (the store's plan, the threads).
            moved = {
                k for k in before.keys() | current.keys() if before.get(k) is not current.get(k)
            }
            assert current.since is before and current.changed == moved
            held = {(ref, key) for key, found in current.items() for ref in found.teachings}
            assert {(ref, key) for ref, keys in current.by_teaching.items() for key in keys} == held
    finally:
        shown_module.RULE_EXAMPLES_SHOWN = shown_before


def test_a_shown_example_stays_shown_when_every_example_is_checked_again() -> None:
    """An open-ended number feature: a far example moves its spread, so the index re-checks
    every example but not the rule; the rule's shown example must stay, with its words."""
    from mola.engine.schema import Schema

    schema = Schema.from_dicts([{"name": "x", "kind": "number"}], [{"name": "a"}, {"name": "b"}])
    index = ConsensusIndex(schema)
    current: dict = {}
    region = compile_condition("x > 0", schema).region
    items = [RuleItem(1, "a", "anna", region, "x > 0")]
    items += [ExampleItem(i, "b", "ben", {"x": float(i)}) for i in (1, 2, 3, 4, 5, 6, 7)]
    items.append(ExampleItem(8, "b", "ben", {"x": -1000.0}))  # outside: moves the spread only
    for item in items:
        current = shown_refreshed(current, index, index.replace(item))
    assert current == shown(index, index.detect_all()) == shown_all(index)
    listed = [c for c in current.values() if c.kind == "rule_example"]
    notes = [index_rendered(index, c)[1] for c in listed]
    assert len(listed) == 5 and all("2 more examples labelled b" in note for note in notes)


@pytest.mark.django_db
def test_a_rule_shows_its_first_disagreeing_examples_and_counts_the_rest(space, teacher, expert):
    rule, _ = rule_create(
        space=space, user=teacher, condition="toss_height_cm > 60", label="toss in front"
    )
    consensus_check(space_id=space.pk)
    ids = []
    for height in range(70, 140, 10):  # seven examples inside the rule's region, another label
        example, _ = example_create(
            space=space, user=expert, features=row(toss_height_cm=float(height)), label="no cue"
        )
        ids.append(example.pk)
        consensus_check(space_id=space.pk)  # one at a time, as teachers add them
    stored = Contradiction.objects.filter(space=space, kind="rule_example")
    shown_ids = sorted(t["id"] for c in stored for t in c.teachings if t["type"] == "example")
    assert shown_ids == sorted(ids)[: shown_module.RULE_EXAMPLES_SHOWN]
    shown_rows = [contradiction_shown(c) for c in stored]
    assert all("2 more examples labelled no cue" in note for _, note in shown_rows)
    assert {evidence["no cue"] for evidence, _ in shown_rows} == {7}  # counts all of them
    # The disputed flags follow what is stored: the rule and the shown examples.
    assert set(Example.objects.filter(disputed=True).values_list("pk", flat=True)) == set(shown_ids)
    assert Rule.objects.get(pk=rule.pk).disputed
    incremental = {(c.key, contradiction_shown(c)[1], c.severity) for c in stored}
    consensus_recompute(space=space)
    assert {(c.key, contradiction_shown(c)[1], c.severity) for c in stored.all()} == incremental
