"""The learner's fast paths give the reference answers: matching, tables, neighbours."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bench.synthetic import synthetic_snapshot
from mola.engine.language import compile_condition
from mola.engine.learning import matching
from mola.engine.learning.arrays import rows_to_table
from mola.engine.learning.evidence import suppress_losers
from mola.engine.learning.matching import Matcher
from mola.engine.learning.neighbours import ExampleIndex
from mola.engine.table import table_from_rows
from tests.engine.learning.learning_kit import CONCEPTS, SCHEMA, rows

EDGY = [
    "toss_height_cm > 60",
    "toss_height_cm >= 60 and toss_height_cm != 75",
    "not toss_height_cm between 60 and 75",
    "toss_height_cm in [0, 60, 200]",
    'serve_type not in ["jump"] or fatigued',
    'not (high_toss and serve_type == "float")',
    "elbow_angle < -3.5 or elbow_angle > 1e6",
    "true",
    "false",
    "toss_height_cm <= 200",
]


def _both_paths(matcher: Matcher, table, monkeypatch):
    """(the dense answer, the column-mask answer) for the same table."""
    monkeypatch.setattr(matching, "DENSE_MAX_ROWS", 10**9)
    dense = matcher.match(table)
    monkeypatch.setattr(matching, "DENSE_MAX_ROWS", -1)
    return dense, matcher.match(table)


def test_matching_agrees_with_the_evaluator_at_the_edges(monkeypatch):
    conditions = [compile_condition(text, SCHEMA, CONCEPTS) for text in EDGY]
    matcher = Matcher(SCHEMA, conditions, list(CONCEPTS.values()))
    values = [0.0, 59.999, 60.0, math.nextafter(60.0, 100), 75.0, 200.0]
    table = rows(
        *(
            {"toss_height_cm": t, "serve_type": s, "fatigued": f, "elbow_angle": e}
            for t in values
            for s in ("jump", "float", "underhand")
            for f in (False, True)
            for e in (-3.5, -4.0, 2e6)
        )
    )
    expected = np.array([c.evaluate(table) for c in conditions])
    for fired, held in _both_paths(matcher, table, monkeypatch):
        np.testing.assert_array_equal(fired, expected)
        np.testing.assert_array_equal(held[0], CONCEPTS["high_toss"].evaluate(table))


def test_matching_agrees_with_the_evaluator_on_generated_teachings(monkeypatch):
    world, snapshot = synthetic_snapshot((120, 40, 10), seed=9)
    matcher = Matcher(
        snapshot.schema,
        [r.condition for r in snapshot.rules],
        [c.condition for c in snapshot.concepts],
    )
    table = table_from_rows(snapshot.schema, world.sample_rows(700, np.random.default_rng(0)))
    rules = np.array([r.condition.evaluate(table) for r in snapshot.rules])
    concepts = np.array([c.condition.evaluate(table) for c in snapshot.concepts])
    for fired, held in _both_paths(matcher, table, monkeypatch):
        np.testing.assert_array_equal(fired, rules)
        np.testing.assert_array_equal(held, concepts)


def test_the_fast_table_is_the_reference_table():
    awkward = [
        {"toss_height_cm": 61, "elbow_angle": 90.5, "serve_type": "jump", "fatigued": True},
        {"toss_height_cm": True, "elbow_angle": None, "serve_type": 3, "fatigued": 1},
        {"toss_height_cm": "x", "serve_type": "sky", "fatigued": None},
        {},
    ]
    for batch in (awkward, awkward[:1] * 5, []):
        fast, reference = rows_to_table(SCHEMA, batch), table_from_rows(SCHEMA, batch)
        assert fast.n_rows == reference.n_rows
        for name, column in reference.columns.items():
            assert fast.columns[name].dtype == column.dtype
            np.testing.assert_array_equal(fast.columns[name], column)


def test_precedence_is_judged_on_the_original_firing():
    fired = np.array([[1, 1, 0], [1, 1, 1], [1, 1, 1]], dtype=bool)  # rules a, b, c × 3 rows
    winners, losers = np.array([0, 1]), np.array([1, 2])  # a beats b, b beats c
    result = suppress_losers(fired.copy(), winners, losers)
    np.testing.assert_array_equal(result, [[1, 1, 0], [0, 0, 1], [0, 0, 0]])


@pytest.mark.parametrize("n", [1, 5, 31, 33, 500])
def test_nearest_neighbours_are_exact(n):
    rng = np.random.default_rng(n)
    points = rng.random((n, 6)).astype(np.float32)
    queries = np.vstack([points[: min(n, 20)], rng.random((20, 6)).astype(np.float32)])
    index = ExampleIndex(points)
    found, squared = index.nearest(queries, 4)
    reference = ((queries[:, None] - points[None]) ** 2).sum(-1)
    expected = np.sort(reference, axis=1)[:, : min(4, n)]
    np.testing.assert_allclose(squared, expected, atol=1e-5)
    np.testing.assert_allclose(np.take_along_axis(reference, found, axis=1), expected, atol=1e-5)
    own = np.arange(min(n, 20))
    left_out, _ = index.nearest(points[own], 3, exclude=own)
    assert not (left_out == own[:, None]).any()
    within, _ = index.nearest(queries, 4, radius=0.3)
    assert (
        (within == -1) | (np.take_along_axis(reference, np.maximum(within, 0), 1) <= 0.09 + 1e-6)
    ).all()


@pytest.mark.parametrize("n", [5, 500, 3000])
def test_a_radius_gives_the_nearest_cut_at_the_radius(n):
    """Rows with no point within the radius are not searched further; the others get
    exactly the unbounded search's neighbours within it."""
    rng = np.random.default_rng(n)
    points = rng.random((n, 6)).astype(np.float32)
    queries = np.vstack([rng.random((200, 6)), rng.random((50, 6)) + 3]).astype(np.float32)
    index = ExampleIndex(points)
    everywhere, squared = index.nearest(queries, 4)
    within, within_squared = index.nearest(queries, 4, radius=0.3)
    near = squared <= 0.3 * 0.3
    np.testing.assert_array_equal(within, np.where(near, everywhere, -1))
    np.testing.assert_array_equal(within_squared, np.where(near, squared, np.inf))
    assert 0 < (within[:, 0] == -1).sum() < len(queries)  # some rows have none within it


def _reach_world(seed: int, n: int = 3000) -> tuple[np.ndarray, np.ndarray]:
    """Points like the encoder's (numbers, one-hot choices, booleans and concepts with wide
    gaps) on a grid of quarters, so that distances are exact in float32: duplicates (ties)
    and queries at exactly the reach of a point are there by construction."""
    rng = np.random.default_rng(seed)
    numbers = rng.integers(0, 5, (n, 3)) / 4
    choices = np.eye(4)[rng.integers(0, 4, n)] * 0.5
    flags = rng.integers(0, 2, (n, 4)) * rng.choice([1.0, 1.5], 4)
    points = np.hstack([numbers, choices, flags]).astype(np.float32)
    points[n // 2 : n // 2 + 50] = points[:50]  # duplicates: ties at every distance
    picked = points[np.arange(500) % n]
    at_reach = picked[:200].copy()
    at_reach[:, 0] += 0.5  # exactly one radius away from its point
    off_grid = picked[200:400] + rng.normal(0, 0.3, (200, points.shape[1]))
    between = picked[400:500].copy()
    between[:, -1] = 0.5  # a boolean between its two values
    far = rng.random((300, points.shape[1])) * 2
    queries = np.vstack([picked[:300], at_reach, off_grid, between, far]).astype(np.float32)
    queries[-2, 1], queries[-1, -1] = np.nan, np.inf  # never proven out of reach
    return points, queries


@pytest.mark.filterwarnings("ignore:invalid value encountered in matmul")  # the inf query
@pytest.mark.parametrize(("seed", "n"), [(0, 3000), (1, 3000), (2, 1000), (3, 200)])
def test_the_reach_filter_keeps_the_brute_force_neighbours(seed, n):
    """Rows the filter proves out of reach are exactly rows brute force finds nothing within
    the radius for; the neighbours and distances of the others are the brute force's, ties
    and rows at exactly the reach included."""
    points, queries = _reach_world(seed, n)
    index = ExampleIndex(points)
    radius, k = 0.5, 8
    found, squared = index.nearest(queries, k, radius=radius)
    everywhere, distances = index.nearest(queries, k)  # no radius: no filter
    near = distances <= radius * radius
    np.testing.assert_array_equal(found, np.where(near, everywhere, -1))
    np.testing.assert_array_equal(squared, np.where(near, distances, np.inf))
    brute = index._search(queries, k, radius, None, few=False)
    np.testing.assert_array_equal(found, brute[0])
    np.testing.assert_array_equal(squared, brute[1])
    kept, buckets = index.prepare(radius).reachable(queries)
    assert kept[found[:, 0] >= 0].all() and kept[-2:].all()
    assert (buckets[kept] >= 0).mean() > 0.5  # most are searched in their bucket only
    assert (found[300:500, 0] >= 0).all()  # the rows at exactly the reach are found
    assert (~kept).sum() > 0.8 * (found[:, 0] < 0).sum()  # most rows out of reach are proven so
    own = np.arange(min(n, 300))
    left_out = index.nearest(points[own], k, radius=radius, exclude=own)
    brute_left_out = index._search(points[own], k, radius, own, few=False)
    np.testing.assert_array_equal(left_out[0], brute_left_out[0])
    assert not (left_out[0] == own[:, None]).any()


def test_a_model_prepares_its_reach_filter_ahead_of_a_big_batch():
    """prepare builds the filter predicting uses (the kernel's reach; prepare_batches, which
    a warm-up runs once the version serves), and does nothing without examples."""
    from tests.engine.learning.learning_kit import FRONT, NONE, example, rule, trained

    examples = [
        example(i, FRONT if i % 2 else NONE, toss_height_cm=float(20 + 3 * i)) for i in range(40)
    ]
    model = trained(rules=[rule(1, "toss_height_cm > 60", FRONT)], examples=examples)
    assert model.examples_.index.n == 40
    index = model.examples_.index
    assert index._filter is None
    model.prepare_explaining()  # what a warm-up builds before it serves the version: not it
    assert index._filter is None
    model.prepare()
    assert index._filter is not None
    assert index._filter.bound == (3 * model.bandwidth_) ** 2
    prepared = index._filter
    model.predict_proba(rows(*({"toss_height_cm": float(h)} for h in range(0, 200, 2))))
    assert index._filter is prepared  # the one predicting uses
    trained(rules=[rule(1, "toss_height_cm > 60", FRONT)]).prepare()  # no examples


def test_the_encoder_writes_each_coordinate_as_its_own_column_would():
    """A kind of feature at a time gives the bytes of the column-by-column reference:
    missing numbers, choices that are none, a text between the others (no coordinate)."""
    from mola.engine.learning.arrays import table_slice
    from mola.engine.learning.encoding import Encoder
    from mola.engine.schema import Schema

    schema = Schema.from_dicts(
        [
            {"name": "a", "kind": "number", "min": -3, "max": 7},
            {"name": "kind", "kind": "category", "choices": ["x", "y", "z"]},
            {"name": "note", "kind": "text"},
            {"name": "b", "kind": "number"},
            {"name": "on", "kind": "boolean"},
            {"name": "size", "kind": "category", "choices": ["s", "m"]},
        ],
        [{"name": "yes"}, {"name": "no"}],
    )
    rng = np.random.default_rng(3)
    n = 300
    table = table_from_rows(
        schema,
        [
            {
                "a": None if i % 7 == 0 else float(rng.normal(2, 3)),
                "kind": ["x", "y", "z", "w"][i % 4],
                "note": "a note",
                "b": float(rng.normal(0, 1e3)) if i % 5 else None,
                "on": bool(i % 3),
                "size": ["s", "m", None][i % 3],
            }
            for i in range(n)
        ],
    )
    held = rng.random((n, 4)) < 0.4
    labels = (held[:, 0] | (table.column("kind") == 1)).astype(np.int64)  # gains to weigh
    encoder = Encoder(schema).fit(table, held, labels, 2)
    assert len(encoder.concepts) and (encoder.scale != 1).any()

    expected = []
    for j, feature in enumerate(encoder.features):
        column = table.column(feature.name)
        if feature.kind == "number":
            scaled = (column - encoder.low[j]) / encoder.span[j]
            expected.append(
                (np.where(np.isfinite(scaled), scaled, 0.5) * encoder.scale[j])[:, None]
            )
        elif feature.kind == "category":
            cells = np.zeros((n, len(feature.choices)))
            known = np.flatnonzero(column >= 0)
            cells[known, column[known]] = encoder.scale[j] / math.sqrt(2)
            expected.append(cells)
        elif feature.kind == "boolean":
            expected.append((column.astype(np.float64) * encoder.scale[j])[:, None])
    expected.append(held[:, encoder.concepts].astype(np.float64) * encoder.concept_scale)
    reference = np.hstack(expected).astype(np.float32)
    for rows_taken in (slice(0, 1), slice(5, 6), slice(0, n)):
        points = encoder.transform(table_slice(table, rows_taken), held[rows_taken])
        assert points.dtype == np.float32
        assert points.tobytes() == reference[rows_taken].tobytes()
