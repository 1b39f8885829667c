"""The examples' facts taken from the last fit's are exactly the facts read afresh."""

from __future__ import annotations

import dataclasses

import numpy as np

from mola.engine.learning.facts import example_facts
from mola.engine.learning.snapshot import ExampleSpec

LABELS = ("a", "b", "c")


def _spec(i: int, **changes) -> ExampleSpec:
    base = ExampleSpec(
        id=i,
        features={"x": i},
        label=LABELS[i % 3],
        author=f"u{i % 4}",
        expertise=("novice", "expert")[i % 2],
        refutes=7 if i % 5 == 0 else None,
        evaluation=i % 6 == 0,
        disputed=i % 7 == 0,
    )
    return dataclasses.replace(base, **changes)


def _same(one, other) -> None:
    for name in ("label", "weight", "id", "refutes", "disputed", "evaluation"):
        assert np.array_equal(getattr(one, name), getattr(other, name)), name
        assert getattr(one, name).dtype == getattr(other, name).dtype, name
    assert [one.authors[c] for c in one.author] == [other.authors[c] for c in other.author]


def test_facts_kept_from_the_last_fit_are_the_fresh_ones():
    specs = [_spec(i) for i in range(30)]
    last = example_facts(specs, LABELS, None)
    changes = {
        "appended": [*specs, _spec(30, author="newcomer")],
        "edited in the middle": [*specs[:10], _spec(10, label="c", disputed=True), *specs[11:]],
        "removed": specs[:5] + specs[6:],
        "unchanged": list(specs),
        "emptied": [],
    }
    for what, now in changes.items():
        kept = example_facts(now, LABELS, last)
        _same(kept, example_facts(now, LABELS, None))
        training, trained = kept.training()
        assert training == [e for e in now if not e.evaluation], what
        assert np.array_equal(trained, [not e.evaluation for e in now]), what
        last = kept


def test_other_labels_read_every_example_again():
    specs = [_spec(i) for i in range(10)]
    last = example_facts(specs, LABELS, None)
    relabelled = example_facts(specs, ("c", "b", "a"), last)
    assert relabelled.label.tolist() == [("c", "b", "a").index(e.label) for e in specs]


def test_author_values_follow_each_row_author():
    specs = [_spec(i) for i in range(8)]
    facts = example_facts(specs, LABELS, None)
    trust = {"u1": 0.5, "u3": 0.25}
    rows = ~facts.evaluation
    expected = [trust.get(e.author, 1.0) for e, r in zip(specs, rows, strict=True) if r]
    assert facts.author_values(trust, 1.0, rows).tolist() == expected
