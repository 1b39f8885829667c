"""A block of explanations, gathered with whole-block numpy passes, says exactly what
explaining each row on its own says."""

from __future__ import annotations

import gc
import threading
from types import SimpleNamespace

import numpy as np
import pytest

from mola.engine.learning.evidence import vote_matrix
from mola.engine.learning.explaining import Explainer


def one_row(explainer, tables, label, probabilities, fired, deciding, held, nearest, squared):
    """The plain per-row reading of an explanation (what the block code must match)."""
    rules, labels, examples = tables
    positions = [r for r in range(len(fired)) if fired[r]]
    positions.sort(key=lambda r: (-rules.reliability[r], rules.ids[r]))
    concepts = [c for c in range(len(held)) if held[c]]
    shown = [(j, s) for j, s in zip(nearest[:3], squared[:3], strict=True) if j >= 0]
    people = (
        {rules.authors[r] for r in positions}
        | {explainer.concept_authors_names[c] for c in concepts}
        | {examples.authors[j] for j, _ in shown}
    )
    return {
        "label": label,
        "probabilities": dict(zip(labels, np.round(probabilities, 6).tolist(), strict=True)),
        "explanation": {
            "rules": [
                {
                    "id": int(rules.ids[r]),
                    "label": labels[rules.labels[r]],
                    "author": rules.authors[r],
                    "reliability": round(float(rules.reliability[r]), 4),
                    "disputed": bool(rules.disputed[r]),
                    "decides": bool(deciding[r]),
                }
                for r in positions
            ],
            "concepts": [explainer.concept_names[c] for c in concepts],
            "examples": [
                {
                    "id": int(examples.ids[j]),
                    "label": labels[examples.labels[j]],
                    "distance": round(float(np.sqrt(np.float64(s))), 4),
                    "disputed": bool(examples.disputed[j]),
                }
                for j, s in shown
            ],
            "contributors": sorted(people),
        },
    }


def random_block(seed: int, n_rows: int, n_rules: int, n_concepts: int, n_examples: int):
    rng = np.random.default_rng(seed)
    labels = ("a", "b", "c")
    people = [f"p{i:02d}" for i in range(12)]
    rules = SimpleNamespace(
        ids=rng.permutation(1000)[:n_rules].astype(np.int64),
        labels=rng.integers(0, 3, n_rules),
        authors=[people[i] for i in rng.integers(0, 12, n_rules)],
        disputed=rng.random(n_rules) < 0.2,
        # ties on purpose: equally reliable rules are listed by id
        reliability=rng.choice([0.25, 0.5, 0.123456, 0.9], n_rules),
    )
    rules.votes = vote_matrix(rules.labels, rules.reliability, np.ones(n_rules), 3)
    examples = SimpleNamespace(
        ids=np.arange(100, 100 + n_examples, dtype=np.int64),
        labels=rng.integers(0, 3, n_examples),
        authors=[people[i] for i in rng.integers(0, 12, n_examples)],
        disputed=rng.random(n_examples) < 0.3,
    )
    concept_names = [f"concept{i}" for i in range(n_concepts)]
    concept_authors = [people[i] for i in rng.integers(0, 12, n_concepts)]
    explainer = Explainer(labels, rules, concept_names, concept_authors, examples)
    explainer.concept_authors_names = concept_authors
    probabilities = rng.dirichlet(np.ones(3), n_rows)
    fired = rng.random((n_rules, n_rows)) < 0.3
    deciding = fired & (rng.random((n_rules, n_rows)) < 0.5)
    held = rng.random((n_concepts, n_rows)) < 0.4
    k = 4 if n_examples else 0
    found = rng.integers(0, max(1, n_examples), (n_rows, k))
    found[rng.random((n_rows, k)) < 0.2] = -1  # fewer neighbours than asked
    squared = rng.random((n_rows, k)).astype(np.float32) * 9
    predicted = [labels[i] for i in probabilities.argmax(axis=1)]
    block = (predicted, probabilities, fired, deciding, held, found, squared)
    return explainer, (rules, labels, examples), block


@pytest.mark.parametrize(
    ("seed", "n_rows", "n_rules", "n_concepts", "n_examples"),
    [(0, 200, 30, 8, 50), (1, 57, 1, 0, 5), (2, 40, 0, 3, 0), (3, 0, 5, 2, 5), (4, 1, 9, 4, 2)],
)
def test_a_block_says_what_each_row_alone_says(seed, n_rows, n_rules, n_concepts, n_examples):
    explainer, tables, block = random_block(seed, n_rows, n_rules, n_concepts, n_examples)
    predicted, probabilities, fired, deciding, held, found, squared = block
    got = [e.as_dict() for e in explainer.explain(*block)]
    expected = [
        one_row(
            explainer,
            tables,
            predicted[i],
            probabilities[i],
            fired[:, i],
            deciding[:, i],
            held[:, i],
            found[i],
            squared[i],
        )
        for i in range(n_rows)
    ]
    assert got == expected


def test_a_grid_of_many_authors_is_built_a_few_rows_at_a_time(monkeypatch):
    from mola.engine.learning import explaining

    explainer, _, block = random_block(5, 120, 30, 8, 50)
    whole = [e.contributors for e in explainer.explain(*block)]
    monkeypatch.setattr(explaining, "_GRID_CELLS", 7 * 12)  # seven rows per grid
    assert [e.contributors for e in explainer.explain(*block)] == whole


def test_the_cycle_collector_is_back_on_after_explaining_from_many_threads():
    explainer, _, block = random_block(6, 300, 30, 8, 50)
    assert gc.isenabled()
    threads = [threading.Thread(target=explainer.explain, args=block) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert gc.isenabled()


@pytest.mark.parametrize(
    ("seed", "n_rows", "n_rules", "n_concepts", "n_examples"),
    [(0, 200, 30, 8, 50), (1, 57, 1, 0, 5), (2, 40, 0, 3, 0), (3, 0, 5, 2, 5), (4, 1, 9, 4, 2)],
)
def test_a_compact_block_is_the_full_one_cut_down(seed, n_rows, n_rules, n_concepts, n_examples):
    """Compact: the first three deciding rules of the full list, how many decide, how many
    more fired, the nearest example, and the people those name."""
    explainer, tables, block = random_block(seed, n_rows, n_rules, n_concepts, n_examples)
    predicted, probabilities, fired, deciding, _, found, squared = block
    _, _, examples = tables
    full = [e.as_dict() for e in explainer.explain(*block)]
    compact = explainer.compact(predicted, probabilities, fired, deciding, found, squared)
    assert len(compact) == len(full)
    for i, (whole, short) in enumerate(zip(full, compact, strict=True)):
        deciding = [r for r in whole["explanation"]["rules"] if r["decides"]]
        listed = deciding[:3]
        nearest = whole["explanation"]["examples"][:1]
        people = {r["author"] for r in listed}
        if nearest and found.shape[1] and found[i, 0] >= 0:
            people.add(examples.authors[int(found[i, 0])])
        assert short == {
            "label": whole["label"],
            "probabilities": whole["probabilities"],
            "explanation": {
                "rules": listed,
                "deciding": len(deciding),
                "more_rules": len(whole["explanation"]["rules"]) - len(listed),
                "examples": nearest if found.shape[1] and found[i, 0] >= 0 else [],
                "contributors": sorted(people),
            },
        }
