"""Benchmark of the learning engine: fit and predict times on synthetic S/M/L snapshots.

    .venv/bin/python bench/engine_fit.py [--sizes S,M,L] [--runs 5] [--seed 0] [--pool 0]
        [--compare]

For each size (rules, concepts, examples; 20 features, 8 labels — see bench/synthetic.py)
prints the median fit time (metrics included) with its stages; the median time of a full
retrain (one more example each time, with the space's ``FitCache``) and of the quick retrain
the worker publishes first (the same, reusing the last full fit's boosted trees:
``trees="reuse"``), with the quick model's accuracy; the artefact size; and the median times to predict one row, to explain one row, and to predict
and explain 10,000 rows.
``--pool N``: every fit also gets N unlabelled cases of the world as the space's case pool
(``Snapshot.pool``; the learner reads at most 5,000). Targets: M fit well under 0.5 s, L under ~3 s, one row ~1 ms, 10,000 rows well under 1 s.
CPU times are printed beside wall times: on a shared machine the wall clock also measures
everyone else's load (and a threaded BLAS waits for its threads); run with
OPENBLAS_NUM_THREADS=1 for figures that do not depend on the neighbours.

``--compare`` also fits each size with the forest as it was before the refine had to be
served within two seconds (``BEFORE``: 100 trees beyond 4,000 examples, not 24) in the same
run, and prints full fit CPU, artefact size and accuracy vs truth side by side.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.synthetic import SIZES, synthetic_snapshot
from mola.engine.learning import fit, forest
from mola.engine.learning.caching import FitCache
from mola.engine.table import table_from_rows

# The forest's settings before this change (forest.py), for --compare.
BEFORE = {"LARGE_TREES": 100}


def median_seconds(action: Callable[[], object], runs: int, clock=time.perf_counter) -> float:
    times = []
    for _ in range(runs):
        started = clock()
        action()
        times.append(clock() - started)
    return statistics.median(times)


def bench_size(name: str, runs: int, seed: int, pool: int = 0) -> None:
    started = time.perf_counter()
    world, snapshot = synthetic_snapshot(name, seed=seed)
    if pool:
        cases = world.sample_rows(pool, np.random.default_rng(seed + 2))
        snapshot = dataclasses.replace(snapshot, pool=tuple(cases))
    generated = time.perf_counter() - started
    model = fit(snapshot, random_state=seed)  # warm-up: imports, first allocations
    fit_time = median_seconds(lambda: fit(snapshot, random_state=seed), runs)
    # CPU time too: on a shared machine wall time measures the neighbours' load as well.
    fit_cpu = median_seconds(lambda: fit(snapshot, random_state=seed), runs, time.process_time)
    retrain_wall, retrain_cpu, refined = retrain_seconds(snapshot, runs, seed)
    quick_wall, quick_cpu, quick = retrain_seconds(snapshot, runs, seed, trees="reuse")
    model = fit(snapshot, random_state=seed)
    stages = model.metrics_["timings"]
    rows = world.sample_rows(10_000, np.random.default_rng(seed + 1))
    one = table_from_rows(snapshot.schema, rows[:1])
    many = table_from_rows(snapshot.schema, rows)
    truth = world.true_labels(rows)
    accuracy = float(np.mean(np.array(model.predict(many)) == np.array(truth)))
    quick_accuracy = float(np.mean(np.array(quick.predict(many)) == np.array(truth)))
    refined_accuracy = float(np.mean(np.array(refined.predict(many)) == np.array(truth)))
    one_predict = median_seconds(lambda: model.predict_proba(one), max(runs, 50))
    one_explain = median_seconds(lambda: model.explain(one), max(runs, 50))
    many_predict = median_seconds(lambda: model.predict_proba(many), runs)
    many_cpu = median_seconds(lambda: model.predict_proba(many), runs, time.process_time)
    many_explain = median_seconds(lambda: model.explain(many), max(1, runs // 2))
    metrics = model.metrics_
    n_rules, n_concepts, n_examples = SIZES[name]
    print(
        f"{name}: {n_rules} rules, {n_concepts} concepts, {n_examples} examples, pool {pool} "
        f"(generated in {generated:.1f} s)\n"
        f"  fit            {fit_time * 1000:8.1f} ms  (CPU {fit_cpu * 1000:.0f} ms; arrays {stages['snapshot_to_arrays'] * 1000:.0f}"
        f" · fit {stages['fit'] * 1000:.0f} · metrics {stages['metrics'] * 1000:.0f} ms)\n"
        f"  retrain fit    {retrain_wall * 1000:8.1f} ms  (CPU {retrain_cpu * 1000:.0f} ms; one more example each,"
        f" with the space's FitCache, as a refine fits: accuracy vs truth {refined_accuracy:.3f})\n"
        f"  quick retrain  {quick_wall * 1000:8.1f} ms  (CPU {quick_cpu * 1000:.0f} ms; the same, reusing the trees;"
        f" accuracy vs truth {quick_accuracy:.3f}, trees {quick.metrics_['trees']})\n"
        f"  artefact       {len(model.to_bytes()) / 1e6:8.2f} MB\n"
        f"  predict 1 row  {one_predict * 1000:8.2f} ms   explain 1 row {one_explain * 1000:.2f} ms\n"
        f"  predict 10k    {many_predict * 1000:8.1f} ms (CPU {many_cpu * 1000:.0f})   explain 10k   {many_explain * 1000:.1f} ms\n"
        f"  quality        cv_accuracy {metrics['cv_accuracy']}  eval accuracy {metrics['accuracy']}"
        f"  macro_f1 {metrics['macro_f1']}  ece {metrics['ece']}  "
        f"accuracy vs truth {accuracy:.3f}\n"
        f"  chosen         {metrics['parameters']['rule_strength']=}"
        f" bandwidth={metrics['parameters']['bandwidth']}"
        f" temperature={metrics['parameters']['temperature']}"
    )


def compare_forest(name: str, runs: int, seed: int) -> None:
    """Full fit CPU, artefact size and accuracy vs truth with ``BEFORE``'s forest settings
    and with today's, on the same snapshot in this run, side by side."""
    world, snapshot = synthetic_snapshot(name, seed=seed)
    rows = world.sample_rows(10_000, np.random.default_rng(seed + 1))
    many = table_from_rows(snapshot.schema, rows)
    truth = np.array(world.true_labels(rows))
    figures = {}
    now = {key: getattr(forest, key) for key in BEFORE}
    for label, settings in (("before", BEFORE), ("now", now)):
        for key, value in settings.items():
            setattr(forest, key, value)
        cpu = median_seconds(lambda: fit(snapshot, random_state=seed), runs, time.process_time)
        model = fit(snapshot, random_state=seed)
        accuracy = float(np.mean(np.array(model.predict(many)) == truth))
        figures[label] = (cpu, len(model.to_bytes()) / 1e6, accuracy)
    for key, value in now.items():
        setattr(forest, key, value)
    (b_cpu, b_mb, b_acc), (n_cpu, n_mb, n_acc) = figures["before"], figures["now"]
    print(
        f"  compare {name} (before: {BEFORE}; now: {now})\n"
        f"    full fit CPU   {b_cpu:6.2f} s -> {n_cpu:6.2f} s\n"
        f"    artefact       {b_mb:6.2f} MB -> {n_mb:6.2f} MB\n"
        f"    vs truth       {b_acc:6.3f}   -> {n_acc:6.3f}  ({(n_acc - b_acc) * 100:+.1f} points)",
        flush=True,
    )


def retrain_seconds(
    snapshot, runs: int, seed: int, trees: str = "fit"
) -> tuple[float, float, object]:
    """Median wall and CPU seconds of ``runs`` fits, each with one more example than the
    last, sharing one ``FitCache`` (as the worker retrains a space after a new example),
    and the last model. ``trees``: "reuse" reuses the first (full) fit's trees; "fit" fits
    as a refine does (cancellable, so in parts; ``REFINE_THREADS`` = 2 threads; the forest
    setting kept from the cache's trees while settled)."""
    examples = list(snapshot.examples)
    first = max(0, len(examples) - runs)
    cache = FitCache()
    fit(
        dataclasses.replace(snapshot, examples=examples[: first - 1]),
        random_state=seed,
        cache=cache,
    )
    walls, cpus = [], []
    for n in range(first, len(examples)):
        grown = dataclasses.replace(snapshot, examples=examples[: n + 1])
        wall, cpu = time.perf_counter(), time.process_time()
        if trees == "fit":
            model = fit(grown, random_state=seed, cache=cache, cancelled=lambda: False, threads=2)
        else:
            model = fit(grown, random_state=seed, cache=cache, trees=trees)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus), model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="S,M,L")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--pool", type=int, default=0, help="unlabelled cases in the pool")
    parser.add_argument(
        "--compare", action="store_true", help="also fit with the forest's BEFORE settings"
    )
    args = parser.parse_args()
    for name in args.sizes.split(","):
        bench_size(name.strip(), args.runs, args.seed, args.pool)
        if args.compare:
            compare_forest(name.strip(), args.runs, args.seed)


if __name__ == "__main__":
    main()
