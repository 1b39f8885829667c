"""Benchmark of evaluation: a version's scorecard and change report, and Krippendorff's alpha.

    .venv/bin/python bench/evaluation.py [--size M] [--cases 1000] [--inputs 500] [--runs 7]

On the synthetic world of bench/synthetic.py (M: 500 rules, 150 concepts, 10,000 examples):
the previous version is a full fit, the new one the quick retrain the worker publishes after
``--added`` more rules (20: more than one write adds, so answers change). It then
times ``mola.engine.evaluation.evaluate_version`` — what the evaluation app runs while a
version is published, less its few queries: the new model's answers on the agreed cases
and the sampled inputs (the previous version's answers on both come from its report, as
in the app), and both models' explanations of every changed row.
Target: ≤ 100 ms on top of the retrain. Then Krippendorff's alpha (overall and per label)
over 1,000 cases × 20 raters who each label half the cases (target ≤ 50 ms), and the
weighted verdicts of the same labels (what a label write recomputes).
Prints CPU time (medians): wall time on a shared machine measures the neighbours' load too.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.synthetic import synthetic_snapshot
from mola.engine.evaluation import evaluate_version, krippendorff_alpha, row_key, verdicts
from mola.engine.learning import fit
from mola.engine.learning.caching import FitCache
from mola.engine.table import table_from_rows


def cpu_median(action, runs: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        started = time.process_time()
        result = action()
        times.append(time.process_time() - started)
    return statistics.median(times), result


def versions(size: str, seed: int, added: int):
    """The world, the previous model (a full fit without the snapshot's last ``added``
    rules), the new one (the quick retrain with them) and the ids of those rules."""
    world, snapshot = synthetic_snapshot(size, seed=seed)
    cache = FitCache()
    before = dataclasses.replace(snapshot, rules=snapshot.rules[:-added], revision=1)
    old = fit(before, random_state=seed, cache=cache)
    new = fit(snapshot, random_state=seed, cache=cache, trees="reuse")
    return world, snapshot.schema, old, new, {("rule", r.id) for r in snapshot.rules[-added:]}


def bench_report(args) -> None:
    world, schema, old, new, added = versions(args.size, args.seed, args.added)
    rng = np.random.default_rng(args.seed + 1)
    cases = world.sample_rows(args.cases, rng)
    truth = world.true_labels(cases)
    inputs = world.sample_rows(args.inputs, rng)
    ids = list(range(1, len(cases) + 1))
    # What the previous version's report keeps: its answers on the cases and the inputs.
    stored = dict(zip(ids, old.predict(table_from_rows(schema, cases)), strict=True))
    stored_inputs = dict(
        zip(map(row_key, inputs), old.predict(table_from_rows(schema, inputs)), strict=True)
    )

    def run():
        return evaluate_version(
            model=new,
            schema=schema,
            case_ids=ids,
            case_rows=cases,
            truth=truth,
            previous=lambda: old,
            previous_answers=stored,
            traffic=inputs,
            previous_input_answers=stored_inputs,
            changed=added,
            concept_ids={},
        )

    run()  # warm-up
    seconds, found = cpu_median(run, args.runs)
    report = found.report
    card = found.scorecard
    caused_cases = {c for ref in added for c in report.causes.get(ref, {"cases": []})["cases"]}
    print(
        f"{args.size}: scorecard + change report, {len(cases)} agreed cases, {len(inputs)} sampled inputs\n"
        f"  CPU median {seconds * 1000:.1f} ms over {args.runs} runs (target <= 100 ms)\n"
        f"  scorecard: accuracy {card['accuracy']}, macro-F1 {card['macro_f1']}, ECE {card['ece']}\n"
        f"  changed: {len(report.now_right)} now right, {len(report.now_wrong)} now wrong, "
        f"{report.traffic_changed}/{report.traffic_total} sampled answers changed; "
        f"{len(caused_cases)} of the {len(report.changed_cases)} changed cases put down to "
        f"the {args.added} added rules"
    )


def bench_alpha(args) -> None:
    rng = np.random.default_rng(args.seed)
    labels = [f"label{i}" for i in range(8)]
    truth = rng.integers(0, len(labels), args.cases)
    cases: dict[int, dict[str, str]] = {}
    for case in range(args.cases):
        answers = {}
        for rater in range(args.raters):
            if rng.random() < 0.5:
                right = rng.random() < 0.8
                answers[f"r{rater}"] = labels[truth[case] if right else rng.integers(len(labels))]
        cases[case] = answers
    listed = list(cases.values())
    krippendorff_alpha(listed, labels)  # warm-up
    seconds, alpha = cpu_median(lambda: krippendorff_alpha(listed, labels), args.runs)
    weights = {f"r{r}": float(1 + r % 4) for r in range(args.raters)}
    verdict_seconds, found = cpu_median(lambda: verdicts(cases, weights), args.runs)
    agreed = sum(v.status == "agreed" for v in found.verdicts.values())
    print(
        f"alpha: {args.cases} cases x {args.raters} raters (each labels half), 8 labels\n"
        f"  CPU median {seconds * 1000:.1f} ms (overall and per label; target <= 50 ms); "
        f"alpha {alpha.overall:.3f}\n"
        f"  weighted verdicts of the same labels: CPU median {verdict_seconds * 1000:.1f} ms "
        f"({agreed} agreed)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="M")
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--inputs", type=int, default=500)
    parser.add_argument("--raters", type=int, default=20)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--added", type=int, default=20, help="rules the new version adds")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f}")
    bench_alpha(args)
    bench_report(args)


if __name__ == "__main__":
    main()
