"""Model-quality benchmark: MOLA against honest baselines on four families of generated worlds.

    .venv/bin/python bench/quality.py [--quick] [--seeds 5] [--scales 50,150,500,2000]
                                      [--families overlap,broad,saboteur,concepts]
                                      [--seed-offset 0]

``--seed-offset 100`` runs worlds 100.. instead of 0..: develop a change there and run the
official seeds once at the end, so the reported worlds never chose anything.

Each (family, seed) generates a world (8 mixed features, 6 labels, a decision-list truth) and
five teachers — master, expert, intermediate, novice, saboteur — who write concepts, rules
and labelled examples (bench/_quality_world.py says how each family stresses the learner).
At each scale (examples taught; 5 % of them are evaluation examples nobody trains on) every
method is scored on 2,000 held-out cases of the world:

  mola        ``fit(snapshot)`` — the refined version (a full fit)
  mola-quick  the version served right after the last teaching: the space was fully fitted
              before its last tenth of examples arrived, then ``fit(…, trees="reuse")``
  mola-pool   with ``--pool N``: ``fit`` with N unlabelled cases of the world as the space's
              case pool (printed as MOLA with pool − MOLA after the table)
  rf-rules    random forest on the values + one 0/1 column per rule and per concept
  hgb-rules   gradient boosting on the same columns
  hgb         gradient boosting on the values only
  vote        majority vote of the rules
(baselines tuned on the training examples: bench/_quality_baselines.py), and two ablations
of MOLA: without its rules, without its examples.

The verdict per family and scale: MOLA's mean accuracy against the best baseline's (the one
with the best mean), and its worst seed against that baseline on the same seed (the target:
mean ≥ best, no seed more than 1 point below). The deletion test: for predictions whose
explanation names deciding rules, the share where switching those rules off lowers the
predicted label's probability (``predict_proba(…, without=…)``), beside the share of
predictions that name one (a rule decides when its vote raises the label and switching it
off lowers its probability: ``TaughtModel._deciding``).

``--snorkel`` scores only Snorkel's LabelModel and its tutorial's end model beside the
rules' majority vote, on the same worlds and test cases (bench/_quality_snorkel.py: snorkel
brings torch, so it is installed apart, never by the lock files).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import _quality_snorkel as snorkel
from bench._quality_baselines import (
    examples_only,
    firing,
    held_out_cases,
    majority_vote,
    predicted,
    rules_as_features,
    tuned_boosting,
    tuned_forest,
    values,
)
from bench._quality_report import QUICK_SCALES, report, report_quick
from bench._quality_world import FAMILIES, N_FEATURES, N_LABELS, PROFILES, build
from mola.engine.learning import fit
from mola.engine.learning.caching import FitCache
from mola.engine.table import table_from_rows

DELETION_ROWS = 300
# Every world is generated with this many examples at least (each scale takes the first n):
# the examples drawn depend on how many are drawn, so a run of one scale meets the same
# teachings as the full run.
WORLD_EXAMPLES = 2000


@dataclass(frozen=True)
class Settings:
    seeds: int
    scales: tuple[int, ...]
    families: tuple[str, ...]
    n_test: int
    trees: int
    pool: int = 0  # unlabelled cases of the world given as the space's pool (0: none)
    seed_offset: int = 0  # worlds seed_offset .. seed_offset + seeds - 1

    @property
    def seed_range(self) -> range:
        return range(self.seed_offset, self.seed_offset + self.seeds)


def _labels(model, table, index) -> np.ndarray:
    return np.array([index[x] for x in model.predict(table)])


def quick_model(snapshot, seed: int, burst: bool = True):
    """The model served right after the last teaching: a full fit before the last example
    (``burst``: the last tenth of the examples, taught faster than refines could follow)
    arrived, then a retrain with its trees reused (as the worker does)."""
    cache = FitCache()
    examples = list(snapshot.examples)
    earlier = examples[: len(examples) - (max(1, len(examples) // 10) if burst else 1)]
    fit(dataclasses.replace(snapshot, examples=earlier), random_state=seed, cache=cache)
    return fit(snapshot, random_state=seed, cache=cache, trees="reuse")


def deletion_share(model, table) -> tuple[float, float]:
    """(share of predictions naming deciding rules, share of those where switching the
    deciding rules off lowers the predicted label's probability)."""
    explanations = model.explain(table)
    without = [[r["id"] for r in e.rules if r.get("decides")] for e in explanations]
    before = model.predict_proba(table)
    after = model.predict_proba(table, without=without)
    named = np.array([bool(w) for w in without])
    predicted_label = before.argmax(axis=1)
    rows = np.arange(len(before))
    lowered = after[rows, predicted_label] < before[rows, predicted_label] - 1e-9
    return float(named.mean()), float(lowered[named].mean()) if named.any() else 1.0


def quick_cell(family: str, seed: int, settings: Settings) -> list[dict]:
    """Only the refined and the quick version after one teaching, at ``QUICK_SCALES``."""
    teaching = build(family, seed, max(WORLD_EXAMPLES, *settings.scales))
    index = {name: i for i, name in enumerate(teaching.schema.label_names)}
    held_out = held_out_cases(teaching, settings.n_test)
    test, y_test = held_out.table, held_out.labels
    results = []
    for n in QUICK_SCALES:
        snapshot = teaching.snapshot(n)
        refined = _labels(fit(snapshot, random_state=seed), test, index)
        quick = _labels(quick_model(snapshot, seed, burst=False), test, index)
        results.append(
            {
                "family": family,
                "seed": seed,
                "n": n,
                "refined": float((refined == y_test).mean()),
                "quick": float((quick == y_test).mean()),
            }
        )
    return results


def run_cell(family: str, seed: int, settings: Settings) -> list[dict]:
    teaching = build(family, seed, max(WORLD_EXAMPLES, *settings.scales))
    schema = teaching.schema
    index = {name: i for i, name in enumerate(schema.label_names)}
    held_out = held_out_cases(teaching, settings.n_test)
    test, y_test = held_out.table, held_out.labels
    x_test_values = values(schema, test)
    x_test = rules_as_features(teaching, test)
    rule_labels = np.array([index[r.label] for r in teaching.rules])
    test_fires = firing([r.condition for r in teaching.rules], test)
    results = []
    for n in settings.scales:
        snapshot = teaching.snapshot(n)
        training = [e for e in snapshot.examples if not e.evaluation]
        train = table_from_rows(schema, [e.features for e in training])
        y = np.array([index[e.label] for e in training])
        x_values = values(schema, train)
        x = rules_as_features(teaching, train)
        frequency = np.bincount(y, minlength=len(index)).astype(float)
        said: dict[str, np.ndarray] = {}
        clock = time.process_time()
        model = fit(snapshot, random_state=seed)
        said["mola"] = _labels(model, test, index)
        fit_cpu = time.process_time() - clock
        if n in QUICK_SCALES:
            said["mola-quick"] = _labels(quick_model(snapshot, seed), test, index)
        if settings.pool:
            pool_rows = teaching.world.sample_rows(
                settings.pool, np.random.default_rng(700_001 + seed)
            )
            with_pool = dataclasses.replace(snapshot, pool=tuple(pool_rows))
            said["mola-pool"] = _labels(fit(with_pool, random_state=seed), test, index)
        said["no-rules"] = _labels(
            fit(dataclasses.replace(snapshot, rules=(), precedences=()), random_state=seed),
            test,
            index,
        )
        said["no-examples"] = _labels(
            fit(dataclasses.replace(snapshot, examples=()), random_state=seed), test, index
        )
        said["rf-rules"] = predicted(tuned_forest(x, y, seed, settings.trees), x_test)
        said["hgb-rules"] = predicted(tuned_boosting(x, y, seed), x_test)
        said["hgb"] = predicted(examples_only(x_values, y, seed), x_test_values)
        said["vote"] = majority_vote(test_fires, rule_labels, frequency)
        named, deleted = deletion_share(
            model, table_from_rows(schema, held_out.rows[:DELETION_ROWS])
        )
        results.append(
            {
                "family": family,
                "seed": seed,
                "n": n,
                "accuracy": {m: float((p == y_test).mean()) for m, p in said.items()},
                "named": named,
                "deleted": deleted,
                "fit_cpu": fit_cpu,
                "chosen": model.metrics_.get("parameters", {}),
            }
        )
    return results


def _run_cells(settings: Settings, save: str | None) -> list[dict]:
    """Every (family, seed) cell, a line printed per cell; saved to ``save`` as it goes."""
    results = []
    # Seed by seed across the families, saving as it goes: a partial run still reports.
    for seed in settings.seed_range:
        for family in settings.families:
            clock = time.perf_counter()
            cell = run_cell(family, seed, settings)
            results += cell
            line = "; ".join(
                f"n={r['n']}: mola {r['accuracy']['mola']:.3f} quick "
                f"{r['accuracy'].get('mola-quick', math.nan):.3f} pool "
                f"{r['accuracy'].get('mola-pool', math.nan):.3f} rf "
                f"{r['accuracy']['rf-rules']:.3f} hgb {r['accuracy']['hgb-rules']:.3f}"
                for r in cell
            )
            print(
                f"  {family} seed {seed} ({time.perf_counter() - clock:.0f} s): {line}", flush=True
            )
            if save:
                Path(save).write_text(json.dumps(results))
    return results


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=None)
    parser.add_argument("--scales", default=None, help="comma-separated example counts")
    parser.add_argument("--families", default=",".join(FAMILIES))
    parser.add_argument("--quick", action="store_true", help="2 seeds, 100 forest trees")
    parser.add_argument(
        "--seed-offset",
        type=int,
        default=0,
        help="first world seed (develop on other worlds than the official 0..seeds-1)",
    )
    parser.add_argument("--save", help="also write the per-seed results to this JSON file")
    parser.add_argument(
        "--pool", type=int, default=0, help="also fit MOLA with this many unlabelled cases"
    )
    parser.add_argument(
        "--only-quick", action="store_true", help="only quick after one example vs refined"
    )
    parser.add_argument(
        "--report", help="comma-separated JSON files of earlier runs: print their table only"
    )
    parser.add_argument("--snorkel", action="store_true", help="only Snorkel's baselines")
    return parser


def main() -> None:
    args = _parser().parse_args()
    scales = tuple(int(x) for x in (args.scales or "50,150,500,2000").split(","))
    settings = Settings(
        seeds=args.seeds or (2 if args.quick else 5),
        scales=scales,
        families=tuple(args.families.split(",")),
        n_test=2000,
        trees=100 if args.quick else 150,
        pool=args.pool,
        seed_offset=args.seed_offset,
    )
    if args.report:
        results = [r for path in args.report.split(",") for r in json.loads(Path(path).read_text())]
        settings = dataclasses.replace(
            settings,
            seeds=len({r["seed"] for r in results}),
            scales=tuple(sorted({r["n"] for r in results})),
            families=tuple(f for f in FAMILIES if any(r["family"] == f for r in results)),
        )
        report(results, settings)
        return
    warnings.filterwarnings("ignore", category=UserWarning)
    teachers = ", ".join(
        f"{p.name} (declared {p.declared}; {p.n_rules} rules; right/broad/wrong "
        f"{'/'.join(f'{k:.0%}' for k in p.kinds)}; mislabels {p.mislabel:.0%})"
        for p in PROFILES
    )
    print(
        f"MOLA quality benchmark: families {', '.join(settings.families)}; {settings.seeds} "
        f"seeds; scales {settings.scales}; {N_FEATURES} features, {N_LABELS} labels, "
        f"{settings.n_test} test cases.\nTeachers (profiles; true skills jittered per seed): "
        f"{teachers}."
    )
    started = time.perf_counter()
    if args.snorkel:
        snorkel.run(settings, max(WORLD_EXAMPLES, *settings.scales), args.save)
        return
    if args.only_quick:
        found = [
            r
            for f in settings.families
            for s in settings.seed_range
            for r in quick_cell(f, s, settings)
        ]
        report_quick(found)
        return
    results = _run_cells(settings, args.save)
    report(results, settings)
    print(
        f"\n(total {time.perf_counter() - started:.0f} s; load {Path('/proc/loadavg').read_text().split()[0]})"
    )


if __name__ == "__main__":
    main()
