"""Benchmark of the consensus core on a large, realistic community.

    .venv/bin/python bench/consensus.py [--rules 10000] [--examples 2000] [--checks 100]

The space: 20 features (8 numbers, 8 categories, 4 booleans) and 8 cues. Each rule is what
a coach writes: a skill, the drill it applies in, a window on the measurement that matters
for that skill, and sometimes one more clause (a boolean, a category, a threshold, or an
"or"). Coaches mostly agree: a rule's cue is the "true" cue of its skill and measurement
(low or high half) 85 % of the time, so disagreements cluster where windows straddle the
middle or a coach differs, as in a real space. Rules are compiled with ``compile_condition``; nothing here bypasses the
language.

Prints: the incremental check of one changed rule against all the others (p50, p95), the
full ``detect_all`` (target <= 5 s at 10,000 rules, wall clock and CPU), contradictions per
kind, and threads, each with a hash of every contradiction (thread) it found: an
optimisation must leave both hashes as they were. Then what the app stores of them
(``mola.engine.consensus.shown``: a few of each rule's disagreeing examples per label), with its own
hash. The thread hash moved once on purpose, when big components came to be cut by teaching
instead of by Louvain communities (``mola.engine.consensus.threads``).

    .venv/bin/python bench/consensus.py --space M [--edits 5] [--verify]
        [--save after.json] [--compare before.json]

instead times the app's check of a space of that size imported in bulk, in-process on the
database of ``DATABASE_URL`` (``bench/_consensus_space.py``): the first check, then warm
checks after one example edit and after one rule edit (CPU and wall medians).
"""

from __future__ import annotations

import argparse
import hashlib
import random
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.sizes import SIZES
from mola.engine.consensus import (
    ConsensusIndex,
    ExampleItem,
    Ref,
    RuleItem,
    group_into_threads,
)
from mola.engine.consensus.counted import index_rendered
from mola.engine.consensus.shown import RULE_EXAMPLES_SHOWN, shown_all
from mola.engine.language import compile_condition
from mola.engine.schema import Schema

NUMBERS = [
    ("toss_height_cm", 0, 200),
    ("elbow_angle", 0, 180),
    ("approach_speed", 0, 10),
    ("knee_bend", 0, 150),
    ("contact_height_cm", 150, 350),
    ("ball_spin_rpm", None, None),
    ("reaction_ms", 100, 900),
    ("fatigue_index", 0, 100),
]
CATEGORIES = [
    ("skill", [f"skill_{i}" for i in range(12)]),
    ("phase", ["warmup", "drill", "scrimmage", "match", "cooldown", "review"]),
    ("serve_type", ["jump", "float", "underhand", "topspin"]),
    ("position", ["setter", "libero", "outside", "opposite", "middle", "ds"]),
    ("level", ["novice", "intermediate", "expert", "master"]),
    ("court_zone", [f"zone_{i}" for i in range(1, 10)]),
    ("drill", [f"drill_{i}" for i in range(20)]),
    ("surface", ["wood", "sand", "synthetic"]),
]
BOOLEANS = ["fatigued", "indoor", "match_play", "injured"]
CUES = [
    "toss in front",
    "no cue",
    "bend knees",
    "elbow high",
    "watch the ball",
    "reach",
    "breathe",
    "faster approach",
]
AUTHORS = ["anna", "ben", "carla", "dev", "emil", "fatou", "goran", "hana"]


def make_schema() -> Schema:
    features: list[dict[str, Any]] = []
    for name, low, high in NUMBERS:
        feature: dict[str, Any] = {"name": name, "kind": "number"}
        if low is not None:
            feature.update(min=low, max=high)
        features.append(feature)
    features += [{"name": n, "kind": "category", "choices": c} for n, c in CATEGORIES]
    features += [{"name": n, "kind": "boolean"} for n in BOOLEANS]
    return Schema.from_dicts(features, [{"name": cue} for cue in CUES])


def _range(index: int) -> tuple[float, float]:
    _, low, high = NUMBERS[index]
    return (-3000.0, 3000.0) if low is None else (float(low), float(high))


class Community:
    """Draws rules, examples and prediction inputs from one hidden "true" coaching map."""

    def __init__(self, seed: int) -> None:
        self.random = random.Random(seed)
        self.truth = {
            (skill, bucket): self.random.choice(CUES) for skill in range(12) for bucket in range(2)
        }

    def _true_cue(self, skill: int, measure: int, value: float) -> str:
        low, high = _range(measure)
        bucket = max(0, min(1, int(2 * (value - low) / (high - low))))
        return self.truth[(skill, bucket)]

    def rule_text(self) -> tuple[str, str]:
        r = self.random
        skill = r.randrange(12)
        measure = skill % len(NUMBERS)
        name = NUMBERS[measure][0]
        low, high = _range(measure)
        width = (high - low) * r.uniform(0.08, 0.25)
        start = round(r.uniform(low, high - width))
        end = round(start + width)
        clauses = [
            f'skill == "skill_{skill}"',
            f'drill == "{r.choice(CATEGORIES[6][1])}"',
            f"{name} between {start} and {end}"
            if r.random() < 0.85
            else f"{name} {r.choice(['>', '>='])} {start}",
        ]
        extra = r.random()
        if extra < 0.15:
            clauses.append(("" if r.random() < 0.5 else "not ") + r.choice(BOOLEANS))
        elif extra < 0.25:
            feature, values = r.choice([CATEGORIES[1], CATEGORIES[3], CATEGORIES[4]])
            picked = ", ".join(f'"{c}"' for c in r.sample(values, r.randint(1, 2)))
            clauses.append(f"{feature} in [{picked}]")
        elif extra < 0.32:
            other = r.randrange(len(NUMBERS))
            o_low, o_high = _range(other)
            clauses.append(f"{NUMBERS[other][0]} < {round(r.uniform(o_low, o_high))}")
        elif extra < 0.40:
            clauses.append(f'(fatigued or serve_type == "{r.choice(CATEGORIES[2][1])}")')
        cue = self._true_cue(skill, measure, (start + end) / 2)
        if r.random() < 0.15:
            cue = r.choice(CUES)
        return " and ".join(clauses), cue

    def point(self) -> dict[str, Any]:
        r = self.random
        row: dict[str, Any] = {}
        for index, (name, _, _) in enumerate(NUMBERS):
            low, high = _range(index)
            row[name] = round(r.uniform(low, high), 1)
        for name, choices in CATEGORIES:
            row[name] = r.choice(choices)
        for name in BOOLEANS:
            row[name] = r.random() < 0.3
        return row

    def example(self, example_id: int) -> ExampleItem:
        point = self.point()
        skill = int(point["skill"].split("_")[1])
        measure = skill % len(NUMBERS)
        cue = self._true_cue(skill, measure, point[NUMBERS[measure][0]])
        if self.random.random() < 0.1:
            cue = self.random.choice(CUES)
        return ExampleItem(example_id, cue, self.random.choice(AUTHORS), point)


def rule_item(schema: Schema, rule_id: int, text: str, cue: str, author: str) -> RuleItem:
    return RuleItem(rule_id, cue, author, compile_condition(text, schema).region, text)


def contradictions_hash(index: ConsensusIndex, found: list) -> str:
    """Every field of every contradiction as shown, in order (floats by repr: exact). The
    evidence and note are the rendered ones (``counted.index_rendered``): a rule
    contradiction carries them without its rules' counts since session 9, and the hash
    stays comparable with the earlier ones."""
    digest = hashlib.sha256()
    for c in found:
        evidence, note = index_rendered(index, c)
        fields = (
            c.key,
            c.kind,
            c.teachings,
            sorted(c.witness.items()),
            c.region_text,
            sorted(evidence.items()),
            repr(c.severity),
            note,
            c.summary,
            c.expected,
        )
        digest.update(repr(fields).encode())
    return digest.hexdigest()[:16]


def threads_hash(threads: list) -> str:
    fields = [(t.contradiction_keys, t.teachings, t.title, t.thread_id) for t in threads]
    return hashlib.sha256(repr(fields).encode()).hexdigest()[:16]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _checks_and_threads(
    index: ConsensusIndex, schema, community: Community, checks: int, n_rules: int, n_examples: int
) -> None:
    """``checks`` changed rules checked one at a time, then every contradiction grouped into
    threads."""
    check_ms, found_counts = [], []
    for _ in range(checks):
        rule_id = community.random.randint(1, n_rules)
        text, cue = community.rule_text()
        index.replace(rule_item(schema, rule_id, text, cue, "anna"))
        started = time.perf_counter()
        found = index.check(Ref("rule", rule_id))
        check_ms.append(1000 * (time.perf_counter() - started))
        found_counts.append(len(found))
    print(
        f"check one changed rule against {n_rules} rules and {n_examples} examples: "
        f"p50 {statistics.median(check_ms):.2f} ms, p95 {percentile(check_ms, 0.95):.2f} ms "
        f"(target p95 <= 20 ms); {statistics.mean(found_counts):.1f} contradictions each"
    )

    everything = index.detect_all()
    started = time.perf_counter()
    threads = group_into_threads(everything, max_size=8)
    sizes = Counter(len(t.contradiction_keys) for t in threads)
    print(
        f"threads: {len(threads)} from {len(everything)} contradictions "
        f"in {time.perf_counter() - started:.2f} s; sizes "
        + ", ".join(f"{size}:{count}" for size, count in sorted(sizes.items()))
        + f"; hash {threads_hash(threads)}"
    )
    print("e.g.", threads[0].title)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rules", type=int, default=10_000)
    parser.add_argument("--examples", type=int, default=2_000)
    parser.add_argument("--recent", type=int, default=1_000)
    parser.add_argument("--checks", type=int, default=100)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--space",
        choices=sorted(SIZES),
        help="instead: the app's check of a space of this size imported in bulk "
        "(bench/_consensus_space.py)",
    )
    parser.add_argument("--edits", type=int, default=5, help="warm checks per kind of edit")
    parser.add_argument(
        "--verify", action="store_true", help="--space: recompute from scratch and compare"
    )
    parser.add_argument("--save", help="--space: write the medians to this JSON file")
    parser.add_argument("--compare", help="--space: a --save file of an earlier run, beside")
    return parser


def main() -> None:
    args = _parser().parse_args()
    if args.space:
        from bench._consensus_space import run

        if not run(args.space, args.edits, args.seed, args.verify, args.save, args.compare):
            sys.exit(1)
        return

    schema, community = make_schema(), Community(args.seed)
    started = time.perf_counter()
    rules = [
        rule_item(schema, i, *community.rule_text(), community.random.choice(AUTHORS))
        for i in range(1, args.rules + 1)
    ]
    examples = [community.example(i) for i in range(1, args.examples + 1)]
    recent = [community.point() for _ in range(args.recent)]
    print(
        f"compiled {len(rules)} rules, drew {len(examples)} examples "
        f"in {time.perf_counter() - started:.1f} s"
    )

    started = time.perf_counter()
    index = ConsensusIndex(schema, recent_points=recent)
    for item in [*rules, *examples]:
        index.replace(item)
    print(f"index built in {time.perf_counter() - started:.2f} s ({index.boxes.size} boxes)")

    started, cpu = time.perf_counter(), time.process_time()
    everything = index.detect_all()
    full_seconds, full_cpu = time.perf_counter() - started, time.process_time() - cpu
    kinds = Counter(found.kind for found in everything)
    per_item = 1e6 * full_seconds / max(1, len(everything))
    print(
        f"detect_all: {full_seconds:.2f} s ({full_cpu:.2f} s CPU; target <= 5 s), "
        f"{len(everything)} contradictions: "
        + ", ".join(f"{kind} {count}" for kind, count in sorted(kinds.items()))
        + f" ({per_item:.0f} us per contradiction, witness and words included); "
        f"hash {contradictions_hash(index, everything)}"
    )

    started = time.process_time()
    stored = shown_all(index)  # what the app builds: shown(index, everything), only cheaper
    stored_kinds = Counter(found.kind for found in stored.values())
    print(
        f"stored (first {RULE_EXAMPLES_SHOWN} rule_example per rule and label): "
        f"{len(stored)} contradictions, rule_example {stored_kinds['rule_example']}, "
        f"built from scratch in {time.process_time() - started:.2f} s CPU; "
        f"hash {contradictions_hash(index, sorted(stored.values(), key=lambda c: c.key))}"
    )

    _checks_and_threads(index, schema, community, args.checks, args.rules, args.examples)


if __name__ == "__main__":
    main()
