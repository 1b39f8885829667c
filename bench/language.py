"""Benchmark of the condition language: vectorised evaluation and compile time.

    .venv/bin/python bench/language.py [--rows 100000] [--runs 7] [--conditions 300]

Prints rows per second evaluating a 10-clause condition (numbers, categories, booleans, a
concept, ``between``, ``in`` and ``!=``) over a random table (median of several runs), and
the time to compile one condition (parse + type-check + exact region; median and p95 over
a few hundred varied conditions, after one warm-up that loads the grammar), the slowest
known input: eight to ten ``!=`` clauses on different number features (each doubles the
region's boxes, so ten are refused as ``too_complex``), CPU median of a few compiles, and
the time to evaluate a text condition (phrases, a substring, an RE2 pattern, a word count)
over 10,000 comments of 5 to 40 words, on a fresh table each run (nothing cached), in CPU
time.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mola.engine.language import Condition, ConditionError, compile_condition
from mola.engine.schema import Schema
from mola.engine.table import Table, table_from_rows

NUMBERS = ["toss_height_cm", "elbow_angle", "approach_speed", "contact_height", "knee_flex"]
CATEGORIES = {
    "serve_type": ["jump", "float", "underhand", "sky ball"],
    "phase": ["toss", "approach", "contact", "follow through"],
    "level": ["junior", "club", "national"],
}
BOOLEANS = ["fatigued", "indoor", "left_handed"]
TEN_CLAUSES = (
    "toss_height_cm > 60 and elbow_angle between 80 and 100"
    ' and serve_type in ["jump", "float"] and not fatigued'
    ' and (approach_speed >= 3.5 or phase != "toss") and level != "junior"'
    " and contact_height < 290 and knee_flex not in [0, 90] and (indoor or high_toss)"
)


def bench_schema() -> Schema:
    features = [{"name": name, "kind": "number", "min": 0, "max": 400} for name in NUMBERS]
    features += [
        {"name": name, "kind": "category", "choices": choices}
        for name, choices in CATEGORIES.items()
    ]
    features += [{"name": name, "kind": "boolean"} for name in BOOLEANS]
    return Schema.from_dicts(features, [{"name": "toss in front"}, {"name": "no cue"}])


def random_table(schema: Schema, n_rows: int, seed: int = 0) -> Table:
    rng = np.random.default_rng(seed)
    columns: dict[str, np.ndarray] = {}
    for feature in schema.features:
        if feature.kind == "number":
            columns[feature.name] = rng.uniform(0, 400, n_rows).round(1)
        elif feature.kind == "category":
            columns[feature.name] = rng.integers(0, len(feature.choices), n_rows).astype(np.int32)
        else:
            columns[feature.name] = rng.random(n_rows) < 0.5
    return Table(columns=columns, n_rows=n_rows)


def varied_condition(rng: random.Random) -> str:
    """A condition a coach might write: 1 to 6 clauses joined by and / or, some negated."""
    clauses = []
    for _ in range(rng.randint(1, 6)):
        kind = rng.random()
        if kind < 0.45:
            name, value = rng.choice(NUMBERS), rng.randint(0, 400)
            clause = rng.choice(
                [
                    f"{name} {rng.choice(['<', '<=', '>', '>=', '!='])} {value}",
                    f"{name} between {value} and {value + rng.randint(1, 80)}",
                ]
            )
        elif kind < 0.8:
            name, choices = rng.choice(list(CATEGORIES.items()))
            picked = ", ".join(f'"{c}"' for c in rng.sample(choices, rng.randint(1, 2)))
            clause = f"{name} {rng.choice(['in', 'not in'])} [{picked}]"
        else:
            clause = rng.choice([*BOOLEANS, "high_toss"])
        clauses.append(f"not ({clause})" if rng.random() < 0.15 else clause)
    text = clauses[0]
    for clause in clauses[1:]:
        text = f"{text} {rng.choice(['and', 'and', 'or'])} {clause}"
    return text


def time_evaluation(condition: Condition, table: Table, runs: int) -> list[float]:
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        condition.evaluate(table)
        timings.append(time.perf_counter() - start)
    return timings


def time_compiles(schema: Schema, concepts: dict[str, Condition], count: int) -> list[float]:
    rng = random.Random(42)
    texts = [varied_condition(rng) for _ in range(count)]
    timings = []
    for text in texts:
        start = time.perf_counter()
        compile_condition(text, schema, concepts)
        timings.append(time.perf_counter() - start)
    return timings


def time_slowest_inputs(runs: int = 5) -> list[tuple[int, float, str]]:
    """(clauses, CPU seconds, outcome) for 8-10 ``!=`` clauses on different features."""
    schema = Schema.from_dicts(
        [{"name": f"x{i}", "kind": "number", "min": 0, "max": 100} for i in range(10)],
        [{"name": "yes"}],
    )
    found = []
    for clauses in (8, 9, 10):
        text = " and ".join(f"x{i} != {i + 1}" for i in range(clauses))
        timings, outcome = [], ""
        for _ in range(runs):
            start = time.process_time()
            try:
                boxes = len(compile_condition(text, schema).region.boxes)
                outcome = f"{boxes} boxes"
            except ConditionError as error:
                outcome = f"refused: {error.code}"
            timings.append(time.process_time() - start)
        found.append((clauses, statistics.median(timings), outcome))
    return found


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


TEXT_CONDITION = (
    'comment contains any ["check out", "my channel", "subscribe", "please"]'
    ' and not comment contains "song" or comment contains_text "http"'
    " or (comment matches /free.*gift/i and words(comment) > 8)"
)
VOCABULARY = [
    "check",
    "out",
    "my",
    "channel",
    "subscribe",
    "please",
    "song",
    "love",
    "this",
    "video",
    "free",
    "gift",
    "card",
    "http",
    "www",
    "great",
    "music",
    "the",
    "best",
    "ever",
    "mystery",
    "enemy",
    "plz",
    "view",
    "views",
    "like",
    "comment",
    "share",
]


def time_text(n_rows: int, runs: int) -> tuple[float, int]:
    """CPU seconds (median) to evaluate TEXT_CONDITION on ``n_rows`` random comments."""
    schema = Schema.from_dicts(
        [{"name": "comment", "kind": "text"}], [{"name": "a"}, {"name": "b"}]
    )
    condition = compile_condition(TEXT_CONDITION, schema)
    rng = random.Random(7)
    rows = [
        {"comment": " ".join(rng.choices(VOCABULARY, k=rng.randint(5, 40)))} for _ in range(n_rows)
    ]
    timings, matched = [], 0
    for _ in range(runs):
        table = table_from_rows(schema, rows)  # fresh: no folded forms or masks cached
        start = time.process_time()
        matched = int(condition.evaluate(table).sum())
        timings.append(time.process_time() - start)
    return statistics.median(timings), matched


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--conditions", type=int, default=300)
    args = parser.parse_args()

    schema = bench_schema()
    concepts = {"high_toss": compile_condition("toss_height_cm > 70", schema)}  # warm-up too
    condition = compile_condition(TEN_CLAUSES, schema, concepts)
    table = random_table(schema, args.rows)

    evaluation = statistics.median(time_evaluation(condition, table, args.runs))
    matched = int(condition.evaluate(table).sum())
    print(
        f"evaluate 10 clauses over {args.rows:,} rows: {evaluation * 1000:.2f} ms median "
        f"of {args.runs} -> {args.rows / evaluation:,.0f} rows/s ({matched:,} rows match)"
    )

    compiles = time_compiles(schema, concepts, args.conditions)
    print(
        f"compile {args.conditions} varied conditions: "
        f"median {statistics.median(compiles) * 1000:.3f} ms, "
        f"p95 {percentile(compiles, 0.95) * 1000:.3f} ms, "
        f"max {max(compiles) * 1000:.3f} ms"
    )
    for clauses, cpu, outcome in time_slowest_inputs():
        print(f"slowest input, {clauses} != clauses: {cpu * 1000:.0f} ms CPU median ({outcome})")

    text_time, text_matched = time_text(10_000, args.runs)
    print(
        f"evaluate a text condition (4 phrases, a substring, an RE2 pattern, a word count) "
        f"over 10,000 comments: {text_time * 1000:.1f} ms CPU median ({text_matched:,} match)"
    )


if __name__ == "__main__":
    main()
