"""Rule coverage on a pool equals a brute-force count, case by case and rule by rule; the
pool matrix stays equal to evaluating from scratch as cases come and go."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from mola.engine.coverage import PoolMatrix, coverage_of, draft_coverage, pack, unpack
from mola.engine.language import compile_condition


@st.composite
def firing(draw):
    n_rules = draw(st.integers(0, 7))
    n_cases = draw(st.integers(0, 40))
    masks = np.array(
        draw(
            st.lists(
                st.lists(st.booleans(), min_size=n_cases, max_size=n_cases),
                min_size=n_rules,
                max_size=n_rules,
            )
        ),
        dtype=bool,
    ).reshape(n_rules, n_cases)
    labels = np.array(
        draw(st.lists(st.integers(0, 2), min_size=n_rules, max_size=n_rules)), dtype=np.int64
    )
    pairs = []
    if n_rules >= 2:
        pairs = draw(
            st.lists(
                st.tuples(st.integers(0, n_rules - 1), st.integers(0, n_rules - 1)).filter(
                    lambda p: p[0] != p[1]
                ),
                max_size=3,
                unique=True,
            )
        )
    return masks, labels, pairs


def brute_force(masks, labels, pairs):
    n_rules, n_cases = masks.shape

    def votes(r, c):
        return masks[r, c] and not any(masks[w, c] for w, lo in pairs if lo == r)

    coverage, overlaps, conflicts = [0] * n_rules, [0] * n_rules, [0] * n_rules
    uncovered = overlapping = conflicting = 0
    for c in range(n_cases):
        firing_rules = [r for r in range(n_rules) if masks[r, c]]
        voting_labels = {labels[r] for r in range(n_rules) if votes(r, c)}
        uncovered += not firing_rules
        overlapping += len(firing_rules) >= 2
        conflicting += len(voting_labels) >= 2
        for r in firing_rules:
            coverage[r] += 1
            overlaps[r] += len(firing_rules) >= 2
            conflicts[r] += votes(r, c) and any(
                votes(o, c) and labels[o] != labels[r] for o in range(n_rules)
            )
    return coverage, overlaps, conflicts, uncovered, overlapping, conflicting


@given(firing())
@settings(max_examples=300, deadline=None)
def test_coverage_equals_a_brute_force_count(data):
    masks, labels, pairs = data
    summary = coverage_of(masks, labels, pairs, sample=3)
    packed = coverage_of(pack(masks), labels, pairs, sample=3, n_cases=masks.shape[1])
    assert packed.conflicts.tolist() == summary.conflicts.tolist()
    coverage, overlaps, conflicts, uncovered, overlapping, conflicting = brute_force(
        masks, labels, pairs
    )
    assert summary.coverage.tolist() == coverage
    assert summary.overlaps.tolist() == overlaps
    assert summary.conflicts.tolist() == conflicts
    assert (summary.uncovered, summary.overlapping, summary.conflicting) == (
        uncovered,
        overlapping,
        conflicting,
    )
    assert summary.covered.tolist() == masks.any(axis=0).tolist()
    for r in range(masks.shape[0]):
        assert summary.samples[r].tolist() == np.flatnonzero(masks[r])[:3].tolist()


@given(firing(), st.integers(0, 2), st.data())
@settings(max_examples=200, deadline=None)
def test_a_draft_rule_counts_like_brute_force(data, draft_label, draw):
    masks, labels, _ = data
    n_cases = masks.shape[1]
    draft = np.array(
        draw.draw(st.lists(st.booleans(), min_size=n_cases, max_size=n_cases)), dtype=bool
    )
    counts = draft_coverage(draft, draft_label, masks, labels)
    assert draft_coverage(draft, draft_label, pack(masks), labels) == counts
    expected = {"coverage": 0, "overlaps": 0, "conflicts": 0, "newly_covered": 0}
    for c in range(n_cases):
        if not draft[c]:
            continue
        others = [r for r in range(masks.shape[0]) if masks[r, c]]
        expected["coverage"] += 1
        expected["overlaps"] += bool(others)
        expected["conflicts"] += any(labels[r] != draft_label for r in others)
        expected["newly_covered"] += not others
    assert counts == expected


def test_the_pool_matrix_follows_the_pool_as_evaluating_from_scratch(schema):
    rows = {
        i: {
            "toss_height_cm": float(i * 7 % 200),
            "elbow_angle": float(i),
            "fatigued": i % 3 == 0,
            "serve_type": ["jump", "float", "underhand"][i % 3],
        }
        for i in range(1, 61)
    }
    conditions = [
        ("a", compile_condition("toss_height_cm > 60", schema)),
        ("b", compile_condition('fatigued and serve_type == "jump"', schema)),
    ]
    matrix = PoolMatrix(schema)
    loads = []

    def rows_of(ids):
        loads.append(len(ids))
        return [rows[i] for i in ids]

    def check(ids):
        matrix.sync(np.array(ids), rows_of)
        expected = np.array(
            [[c.evaluate_rows([rows[i]])[0] for i in matrix.ids] for _, c in conditions]
        )
        assert sorted(matrix.ids.tolist()) == sorted(ids)
        assert (unpack(matrix.masks(conditions), len(ids)) == expected).all()

    check(list(range(1, 31)))
    check(list(range(1, 31)))  # nothing new: nothing loaded
    assert loads == [30]
    check([i for i in range(1, 51) if i % 4])  # some gone, 15 new
    assert loads[-1] == 15
    check([5, 6, 7])
    check(list(range(40, 61)))
