"""How much of a model-quality cell is the learners' own draw: each world fitted again with
other learner seeds, MOLA and the rules-as-features random forest alike.

    .venv/bin/python bench/quality_draws.py [--scale 50] [--draws 8] [--seeds 5]
                                            [--families overlap,broad,saboteur,concepts]
                                            [--seed-offset 0] [--save draws.json]

bench/quality.py fits every method once per world, with the world's seed as the learner's
seed, and judges each world by that one draw against the baseline's one draw. At 50 examples
a random forest's accuracy moves by 1-2 points from one learner seed to the next on the same
examples, and so does MOLA's; a world can be "lost" by a lucky draw of the baseline. This
bench separates the two: per world it fits MOLA (``fit(snapshot, random_state=s)``) and the
baseline (bench/_quality_baselines.tuned_forest, as quality.py tunes it) with ``--draws``
learner seeds — the first is quality.py's own draw — and prints each one's mean and standard
deviation, the gap of the means, and the gap of quality.py's draws. Nothing here chooses
anything; it says whether a cell's verdict is the learners' or the draw's.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._quality_baselines import held_out_cases, predicted, rules_as_features, tuned_forest
from bench._quality_world import FAMILIES, build
from mola.engine.learning import fit
from mola.engine.table import table_from_rows

WORLD_EXAMPLES = 2000  # as bench/quality.py: the same teachings at every scale
DRAW_STEP = 1000  # learner seeds: the world's seed, then + 1000, + 2000, ...


def world_draws(family: str, seed: int, scale: int, draws: int) -> dict:
    """MOLA's and the baseline's accuracy on the world's 2,000 test cases per learner seed."""
    teaching = build(family, seed, max(WORLD_EXAMPLES, scale))
    index = {name: i for i, name in enumerate(teaching.schema.label_names)}
    held_out = held_out_cases(teaching, 2000)
    test, y_test = held_out.table, held_out.labels
    snapshot = teaching.snapshot(scale)
    training = [e for e in snapshot.examples if not e.evaluation]
    train = table_from_rows(teaching.schema, [e.features for e in training])
    y = np.array([index[e.label] for e in training])
    x, x_test = rules_as_features(teaching, train), rules_as_features(teaching, test)
    mola, forest = [], []
    for k in range(draws):
        learner = seed + DRAW_STEP * k
        said = np.array([index[v] for v in fit(snapshot, random_state=learner).predict(test)])
        mola.append(float((said == y_test).mean()))
        baseline = tuned_forest(x, y, learner, 150)  # quality.py's trees
        forest.append(float((predicted(baseline, x_test) == y_test).mean()))
    return {"family": family, "seed": seed, "n": scale, "mola": mola, "rf-rules": forest}


def report(results: list[dict]) -> None:
    print(
        "\n| family | world | MOLA mean ± sd | RF rules-as-features mean ± sd | gap of the means "
        "| gap of quality.py's draws |\n| --- | --- | --- | --- | --- | --- |"
    )
    for r in results:
        gap = 100 * (np.mean(r["mola"]) - np.mean(r["rf-rules"]))
        first = 100 * (r["mola"][0] - r["rf-rules"][0])
        print(
            f"| {r['family']} | {r['seed']} | {np.mean(r['mola']):.3f} ± "
            f"{np.std(r['mola']):.3f} | {np.mean(r['rf-rules']):.3f} ± "
            f"{np.std(r['rf-rules']):.3f} | {gap:+.1f}{' ✗' if gap < -1 else ''} | "
            f"{first:+.1f}{' ✗' if first < -1 else ''} |"
        )
    for family in dict.fromkeys(r["family"] for r in results):
        gaps = [
            100 * (np.mean(r["mola"]) - np.mean(r["rf-rules"]))
            for r in results
            if r["family"] == family
        ]
        print(
            f"{family}: gap of the means {np.mean(gaps):+.1f} on average, worst world "
            f"{min(gaps):+.1f}, {sum(g < -1 for g in gaps)} of {len(gaps)} worlds below -1"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=50)
    parser.add_argument("--draws", type=int, default=8)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--seed-offset", type=int, default=0)
    parser.add_argument("--families", default=",".join(FAMILIES))
    parser.add_argument("--save", help="also write the per-world draws to this JSON file")
    parser.add_argument("--report", help="comma-separated JSON files: print their table only")
    args = parser.parse_args()
    if args.report:
        report([r for p in args.report.split(",") for r in json.loads(Path(p).read_text())])
        return
    warnings.filterwarnings("ignore", category=UserWarning)
    started, results = time.perf_counter(), []
    for seed in range(args.seed_offset, args.seed_offset + args.seeds):
        for family in args.families.split(","):
            results.append(world_draws(family, seed, args.scale, args.draws))
            r = results[-1]
            print(
                f"  {family} seed {seed}: MOLA {np.mean(r['mola']):.3f} ± {np.std(r['mola']):.3f}"
                f", RF {np.mean(r['rf-rules']):.3f} ± {np.std(r['rf-rules']):.3f}",
                flush=True,
            )
            if args.save:
                Path(args.save).write_text(json.dumps(results))
    report(results)
    print(f"\n(total {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
