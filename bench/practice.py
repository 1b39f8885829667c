"""Practice benchmark: how fast answered queue cases teach the model, against random cases.

    .venv/bin/python bench/practice.py [--seeds 3] [--answers 500] [--batch 25] [--pool]

On the generated worlds (bench/synthetic.py: 50 rules, 20 concepts, 40 starting examples,
20 features, 8 labels), a pool of 5,000 unlabelled cases and 3,000 test cases are drawn
from the world. An oracle answers with the world's true label. Two teachers answer
``--answers`` pool cases, ``--batch`` at a time, the model refitted after each batch:

- *queue*: the top of the practice queue, ranked as the app ranks it — coverage of the
  rules on the pool (``mola.engine.coverage``), then ``mola.engine.practice.rank_cases``
  (margin sampling plus conflict / uncovered / experts-disagree reasons) over a seeded
  sample of 2,000 unanswered cases;
- *random*: pool cases in a seeded random order.

``--pool``: every fit also reads the 5,000 pool cases as the space's case pool (as the app's
training does; answered ones are examples, left out of it). Prints test accuracy against the
number of answers, per seed and averaged, and how many
queue answers it takes to reach random order's accuracy at ``--answers`` (target: ≤ half).
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.synthetic import synthetic_snapshot  # noqa: E402
from mola.engine.coverage import coverage_of  # noqa: E402
from mola.engine.learning import ExampleSpec, fit  # noqa: E402
from mola.engine.learning.arrays import rows_to_table  # noqa: E402
from mola.engine.practice import rank_cases  # noqa: E402

CANDIDATES = 2_000


def _accuracy(model, table, truth: np.ndarray) -> float:
    return float(np.mean(np.array(model.predict(table), dtype=object) == truth))


def _answered_snapshot(snapshot, rows, labels, answered: list[int]):
    start = 1_000_000  # ids clear of the snapshot's own examples
    answers = tuple(
        ExampleSpec(
            id=start + i,
            features=rows[i],
            label=labels[i],
            author="practice",
            expertise="expert",
        )
        for i in answered
    )
    return replace(snapshot, examples=tuple(snapshot.examples) + answers)


def _pool_reasons(snapshot, pool_table):
    """Per pool case: covered by a rule, rules of different labels unsettled (as the app)."""
    rules = list(snapshot.rules)
    position = {r.id: i for i, r in enumerate(rules)}
    label_index = {name: i for i, name in enumerate(snapshot.schema.label_names)}
    memo: dict = {}
    masks = np.array([r.condition.evaluate_with_memo(pool_table, memo) for r in rules])
    labels = np.array([label_index[r.label] for r in rules])
    pairs = [
        (position[p.winner], position[p.loser])
        for p in snapshot.precedences
        if p.winner in position and p.loser in position
    ]
    summary = coverage_of(masks, labels, pairs)
    return summary.covered, summary.conflicted


def _run(seed: int, strategy: str, answers: int, batch: int, checkpoints: list[int], pool: bool):
    world, snapshot = synthetic_snapshot((50, 20, 40), seed=seed)
    rng = np.random.default_rng(1000 + seed)
    pool_rows = world.sample_rows(5_000, rng)
    pool_labels = world.true_labels(pool_rows)
    test_rows = world.sample_rows(3_000, rng)
    test_table = rows_to_table(snapshot.schema, test_rows)
    test_truth = np.array(world.true_labels(test_rows), dtype=object)
    pool_table = rows_to_table(snapshot.schema, pool_rows)
    covered, conflicted = _pool_reasons(snapshot, pool_table)
    order = rng.permutation(len(pool_rows)).tolist()  # the random teacher's order
    answered: list[int] = []
    curve: dict[int, float] = {}
    fit_seconds = []
    while True:
        started = time.process_time()
        taught = _answered_snapshot(snapshot, pool_rows, pool_labels, answered)
        if pool:
            taught = replace(taught, pool=tuple(pool_rows))
        model = fit(taught)
        fit_seconds.append(time.process_time() - started)
        if len(answered) in checkpoints:
            curve[len(answered)] = _accuracy(model, test_table, test_truth)
        if len(answered) >= answers:
            return curve, float(np.median(fit_seconds))
        if strategy == "random":
            answered += order[len(answered) : len(answered) + batch]
            continue
        taken = set(answered)
        open_ = np.array([i for i in range(len(pool_rows)) if i not in taken])
        sample = np.sort(rng.choice(open_, min(CANDIDATES, len(open_)), replace=False))
        columns = {name: column[sample] for name, column in pool_table.columns.items()}
        table = type(pool_table)(columns=columns, n_rows=len(sample))
        queue = rank_cases(model, table, conflicted[sample], covered[sample])
        answered += sample[queue.positions[:batch]].tolist()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--answers", type=int, default=500)
    parser.add_argument("--batch", type=int, default=25)
    parser.add_argument("--pool", action="store_true", help="fits read the pool as well")
    args = parser.parse_args()
    checkpoints = sorted({0, *range(args.batch, args.answers + 1, args.batch)})
    shown = [c for c in checkpoints if c in (0, 50, 100, 150, 200, 250, 300, 400, 500)]
    curves = {"queue": [], "random": []}
    print(
        f"practice benchmark: {args.seeds} seeds, {args.answers} answers in batches of "
        f"{args.batch}{', fits read the pool' if args.pool else ''}"
    )
    for seed in range(args.seeds):
        for strategy in ("queue", "random"):
            curve, fit_cpu = _run(seed, strategy, args.answers, args.batch, checkpoints, args.pool)
            curves[strategy].append(curve)
            points = "  ".join(f"{n}:{curve[n]:.3f}" for n in shown)
            print(f"seed {seed} {strategy:6} (fit median {fit_cpu:.2f} s CPU)  {points}")
    mean = {
        strategy: {n: float(np.mean([c[n] for c in runs])) for n in checkpoints}
        for strategy, runs in curves.items()
    }
    print("mean accuracy against answers:")
    for strategy in ("queue", "random"):
        print(f"  {strategy:6} " + "  ".join(f"{n}:{mean[strategy][n]:.3f}" for n in shown))
    target = mean["random"][args.answers]
    reached = next((n for n in checkpoints if mean["queue"][n] >= target), None)
    verdict = "met" if reached is not None and reached <= args.answers // 2 else "missed"
    print(
        f"random order's accuracy at {args.answers} answers: {target:.3f}; the queue reaches it "
        f"at {reached if reached is not None else 'more than ' + str(args.answers)} answers "
        f"(target <= {args.answers // 2}: {verdict})"
    )


if __name__ == "__main__":
    main()
