"""Model-quality benchmark: MOLA against three baselines on generated teaching worlds.

    .venv/bin/python bench/quality.py [--seeds 5] [--quick] [--scales 200,2000]

Each seed generates a world (12 mixed features, 5 labels) with a hidden decision-list truth,
and twelve simulated teachers (novice…master) who write concepts, rules (right, too broad or
wrong, the less expert the more often wrong) and labelled examples (mislabelled more often by
novices) — see bench/_quality_world.py. A held-out test set is drawn from the world, and at
each scale (number of examples taught) these are scored on it, accuracy and macro-F1:

  (a) mola      ``fit(snapshot)``: concepts, rules, precedences, examples (evaluation
                examples excluded, as the learner always does)
  (b) vote      majority vote of the rules that fire; ties go to the tied label most frequent
                among the training examples, no rule firing to the most frequent label
  (c) rf, hgb   scikit-learn on the training examples alone (one-hot categories):
                RandomForestClassifier, HistGradientBoostingClassifier
  (d) snorkel   Snorkel's LabelModel with the rules as labelling functions over the training
                examples' rows plus unlabelled rows drawn from the world, then the end model
                of (c) (random forest) fitted on its probabilistic labels (each covered row
                once per likely label, weighted by its probability); also the LabelModel's
                own argmax (uncovered rows: the most frequent label)
      snorkel+  the same, but the training examples keep their teachers' labels (a stronger,
                semi-supervised use of Snorkel; not part of the usual recipe)

and two ablations of MOLA for the learning engineer: without the rules (and precedences), and
without the examples. Then the paired differences MOLA − baseline and a verdict.
Runtime: about a minute for the default 5 seeds (at these sizes MOLA fits its boosted trees
three times: two calibration folds and the final ensemble); ``--quick`` (2 seeds, 200 and 1,000
examples, smaller sets) about 20 s plus imports.

Every method sees the same training examples (not the evaluation ones). Snorkel is optional,
for this benchmark only (never in requirements*.lock): ``pip install torch==2.13.0`` (a local
CPU wheel on this machine) then ``pip install snorkel==0.10.0``; without it (d) is skipped.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.metrics import f1_score
from threadpoolctl import threadpool_limits

from bench._quality_world import (
    MISLABEL,
    N_FEATURES,
    N_LABELS,
    RULE_KIND_P,
    RULES_PER_TEACHER,
    TEACHERS,
    Teaching,
    build,
)
from mola.engine.learning import ExampleSpec, LearningParams, fit
from mola.engine.schema import Schema
from mola.engine.table import Table, table_from_rows

try:
    import snorkel  # noqa: F401
    from snorkel.labeling.model import LabelModel
except ImportError:
    LabelModel = None

SNORKEL_HINT = (
    "Snorkel is not installed, so (d) is skipped. To run it (benchmark only, never in "
    "requirements*.lock): .venv/bin/pip install torch==2.13.0 (a local CPU wheel on this "
    "machine), then .venv/bin/pip install snorkel==0.10.0"
)
METHODS = ("mola", "vote", "rf", "hgb", "label-model", "snorkel", "snorkel+")
ABLATIONS = ("mola-no-rules", "mola-no-examples")
NAMES = {
    "mola-no-rules": "    MOLA, no rules (ablation)",
    "mola-no-examples": "    MOLA, no examples (ablation)",
    "mola": "(a) MOLA",
    "vote": "(b) rule majority vote",
    "rf": "(c) random forest, examples",
    "hgb": "(c) grad. boosting, examples",
    "label-model": "(d) Snorkel LabelModel alone",
    "snorkel": "(d) Snorkel + random forest",
    "snorkel+": "(d) Snorkel + RF, gold examples",
}


SHORT = {
    "vote": "the rules' majority vote",
    "rf": "the random forest on examples",
    "hgb": "gradient boosting on examples",
    "label-model": "Snorkel's LabelModel alone",
    "snorkel": "Snorkel + random forest",
    "snorkel+": "Snorkel + random forest with gold examples",
}


@dataclass(frozen=True)
class Settings:
    seeds: int
    scales: tuple[int, ...]
    n_test: int
    n_unlabelled: int
    trees: int
    snorkel_epochs: int


# ---------------------------------------------------------------------------------------------
# Features and rule votes as arrays


def encode(schema: Schema, table: Table) -> np.ndarray:
    """Numbers as they are, booleans as 0/1, categories one-hot over the declared choices."""
    parts = []
    for feature in schema.features:
        column = table.column(feature.name)
        if feature.kind == "category":
            parts.append(column[:, None] == np.arange(len(feature.choices))[None, :])
        else:
            parts.append(column[:, None])
    return np.hstack(parts).astype(np.float64)


def fired(teaching: Teaching, table: Table) -> np.ndarray:
    """rows × rules: which rules fire."""
    return np.array([r.condition.evaluate(table) for r in teaching.rules]).T.reshape(
        table.n_rows, len(teaching.rules)
    )


def rule_label_index(teaching: Teaching) -> np.ndarray:
    index = {name: i for i, name in enumerate(teaching.schema.label_names)}
    return np.array([index[r.label] for r in teaching.rules], dtype=np.int64)


# ---------------------------------------------------------------------------------------------
# The methods; each returns predicted label indices on the test rows


def majority_vote(fires: np.ndarray, rule_labels: np.ndarray, frequency: np.ndarray) -> np.ndarray:
    votes = fires.astype(np.float64) @ np.eye(len(frequency))[rule_labels]
    # Ties (and no rule at all, where every count is 0) go to the most frequent training label.
    tie_break = frequency / (frequency.sum() + 1) * 1e-3
    return np.argmax(votes + tie_break, axis=1)


def forest(settings: Settings, seed: int) -> RandomForestClassifier:
    return RandomForestClassifier(n_estimators=settings.trees, n_jobs=2, random_state=seed)


def label_model(
    fires: np.ndarray,
    rule_labels: np.ndarray,
    n_labels: int,
    balance: np.ndarray,
    epochs: int,
    seed: int,
):
    """Snorkel's LabelModel fitted on the rules' votes (class balance from the examples)."""
    matrix = np.where(fires, rule_labels[None, :], -1)
    model = LabelModel(cardinality=n_labels, verbose=False)
    model.fit(matrix, class_balance=list(balance), progress_bar=False, n_epochs=epochs, seed=seed)
    return model


def soft_labels(model, fires: np.ndarray, rule_labels: np.ndarray) -> np.ndarray:
    """Probabilistic labels of the LabelModel; rows no rule covers get NaN."""
    probabilities = model.predict_proba(np.where(fires, rule_labels[None, :], -1))
    probabilities[~fires.any(axis=1)] = np.nan
    return probabilities


def fit_on_soft_labels(
    settings: Settings, seed: int, x: np.ndarray, probabilities: np.ndarray
) -> RandomForestClassifier:
    """The end model on probabilistic labels: each row once per label of probability above
    2 %, weighted by it (rows without labels left out)."""
    keep = ~np.isnan(probabilities).any(axis=1)
    x, probabilities = x[keep], probabilities[keep]
    rows, labels = np.nonzero(probabilities > 0.02)
    model = forest(settings, seed)
    model.fit(x[rows], labels, sample_weight=probabilities[rows, labels])
    return model


def predicted(model, x: np.ndarray, n_labels: int) -> np.ndarray:
    return np.asarray(model.predict(x), dtype=np.int64).clip(0, n_labels - 1)


# ---------------------------------------------------------------------------------------------
# One seed


def run_seed(seed: int, settings: Settings, log) -> list[dict]:
    started = time.perf_counter()
    teaching = build(seed, max(settings.scales))
    schema = teaching.schema
    labels = schema.label_names
    n_labels = len(labels)
    label_index = {name: i for i, name in enumerate(labels)}
    world = teaching.world
    rng = np.random.default_rng(900_001 + seed)
    test_rows = world.sample_rows(settings.n_test, rng)
    y_test = np.array([label_index[x] for x in world.true_labels(test_rows)])
    test_table = table_from_rows(schema, test_rows)
    x_test = encode(schema, test_table)
    fires_test = fired(teaching, test_table)
    rule_labels = rule_label_index(teaching)
    unlabelled_table = table_from_rows(schema, world.sample_rows(settings.n_unlabelled, rng))
    x_unlabelled = encode(schema, unlabelled_table)
    fires_unlabelled = fired(teaching, unlabelled_table)
    kinds = teaching.rule_kinds
    precision = _rule_precision(fires_test, rule_labels, y_test, kinds)
    results = []
    for n in settings.scales:
        snapshot = teaching.snapshot(n)
        training: list[ExampleSpec] = [e for e in snapshot.examples if not e.evaluation]
        truth = teaching.example_truth[:n]
        mislabelled = float(
            np.mean([e.label != t for e, t in zip(snapshot.examples, truth, strict=True)])
        )
        train_table = table_from_rows(schema, [e.features for e in training])
        x_train = encode(schema, train_table)
        y_train = np.array([label_index[e.label] for e in training])
        frequency = np.bincount(y_train, minlength=n_labels).astype(np.float64)
        times: dict[str, float] = {}
        predictions: dict[str, np.ndarray] = {}

        clock = time.perf_counter()
        model = fit(snapshot, random_state=seed)
        predictions["mola"] = np.array([label_index[x] for x in model.predict(test_table)])
        times["mola"] = time.perf_counter() - clock
        chosen = model.metrics_["parameters"]
        # Ablations, for the learning engineer: MOLA without the rules (and their precedences),
        # and MOLA without the examples.
        for name, part in (
            ("mola-no-rules", replace(snapshot, rules=(), precedences=())),
            ("mola-no-examples", replace(snapshot, examples=())),
        ):
            clock = time.perf_counter()
            ablated = fit(part, random_state=seed).predict(test_table)
            predictions[name] = np.array([label_index[x] for x in ablated])
            times[name] = time.perf_counter() - clock

        clock = time.perf_counter()
        predictions["vote"] = majority_vote(fires_test, rule_labels, frequency)
        times["vote"] = time.perf_counter() - clock

        clock = time.perf_counter()
        rf = forest(settings, seed).fit(x_train, y_train)
        predictions["rf"] = predicted(rf, x_test, n_labels)
        times["rf"] = time.perf_counter() - clock

        clock = time.perf_counter()
        with threadpool_limits(1, user_api="openmp"):  # OpenMP spinning on a busy machine
            hgb = HistGradientBoostingClassifier(random_state=seed).fit(x_train, y_train)
            predictions["hgb"] = predicted(hgb, x_test, n_labels)
        times["hgb"] = time.perf_counter() - clock

        if LabelModel is not None:
            clock = time.perf_counter()
            fires_train = fired(teaching, train_table)
            balance = (frequency + 1) / (frequency.sum() + n_labels)
            fires_all = np.vstack([fires_train, fires_unlabelled])
            lm = label_model(
                fires_all, rule_labels, n_labels, balance, settings.snorkel_epochs, seed
            )
            soft = soft_labels(lm, fires_all, rule_labels)
            on_test = soft_labels(lm, fires_test, rule_labels)
            uncovered = np.isnan(on_test).any(axis=1)
            predictions["label-model"] = np.where(
                uncovered, np.argmax(frequency), np.argmax(np.nan_to_num(on_test), axis=1)
            )
            times["label-model"] = time.perf_counter() - clock
            x_all = np.vstack([x_train, x_unlabelled])
            end = fit_on_soft_labels(settings, seed, x_all, soft)
            predictions["snorkel"] = predicted(end, x_test, n_labels)
            times["snorkel"] = time.perf_counter() - clock
            clock = time.perf_counter()
            gold = soft.copy()
            gold[: len(y_train)] = np.eye(n_labels)[y_train]
            end = fit_on_soft_labels(settings, seed, x_all, gold)
            predictions["snorkel+"] = predicted(end, x_test, n_labels)
            times["snorkel+"] = time.perf_counter() - clock

        scores = {
            method: (
                float(np.mean(p == y_test)),
                float(
                    f1_score(y_test, p, labels=np.unique(y_test), average="macro", zero_division=0)
                ),
            )
            for method, p in predictions.items()
        }
        results.append(
            {
                "seed": seed,
                "n": n,
                "n_training": len(training),
                "mislabelled": mislabelled,
                "scores": scores,
                "times": times,
                "precision": precision,
                "kinds": {k: kinds.count(k) for k in ("right", "broad", "wrong")},
                "majority": float(np.mean(y_test == np.argmax(frequency))),
                "chosen": chosen,
            }
        )
        line = "  ".join(f"{m} {scores[m][0]:.3f}" for m in METHODS if m in scores)
        line += "  | mola without rules {:.3f}, without examples {:.3f}".format(
            scores["mola-no-rules"][0], scores["mola-no-examples"][0]
        )
        log(f"  seed {seed}  n={n:<5} {line}")
    log(f"  (seed {seed}: {time.perf_counter() - started:.1f} s)")
    return results


def _rule_precision(fires, rule_labels, y, kinds) -> dict[str, float]:
    """Mean precision on the test set of each kind of rule (where it fires, is it right?)."""
    out = {}
    for kind in ("right", "broad", "wrong"):
        values = [
            float(np.mean(y[fires[:, j]] == rule_labels[j]))
            for j in range(len(kinds))
            if kinds[j] == kind and fires[:, j].any()
        ]
        out[kind] = statistics.fmean(values) if values else float("nan")
    return out


# ---------------------------------------------------------------------------------------------
# Reporting


def _mean_std(values: list[float]) -> tuple[float, float]:
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)


def report(results: list[dict], settings: Settings) -> None:
    methods = [m for m in METHODS if m in results[0]["scores"]]
    shown = methods + list(ABLATIONS)
    n_seeds = settings.seeds
    print()
    print("Setting per seed (test-set precision of the rules, by kind; examples mislabelled):")
    for r in results:
        if r["n"] != settings.scales[-1]:
            continue
        p = r["precision"]
        k = r["kinds"]
        print(
            f"  seed {r['seed']}: rules right {k['right']} (precision {p['right']:.2f}), "
            f"too broad {k['broad']} ({p['broad']:.2f}), wrong {k['wrong']} ({p['wrong']:.2f}); "
            f"examples mislabelled {r['mislabelled']:.1%}; majority class {r['majority']:.1%}"
        )
    for metric, position in (("accuracy", 0), ("macro-F1", 1)):
        print()
        print(f"Held-out {metric}, mean ± std over {n_seeds} seeds (per seed in brackets):")
        for n in settings.scales:
            rows = [r for r in results if r["n"] == n]
            print(f"  {n} examples ({rows[0]['n_training']} for training, seed 0):")
            for m in shown:
                values = [r["scores"][m][position] for r in rows]
                mean, std = _mean_std(values)
                per_seed = " ".join(f"{v:.3f}" for v in values)
                seconds = statistics.fmean(r["times"][m] for r in rows)
                timing = f"  {seconds:5.2f} s" if metric == "accuracy" else ""
                print(f"    {NAMES[m]:<35} {mean:.3f} ± {std:.3f}   [{per_seed}]{timing}")
            if metric == "accuracy":
                chosen = "; ".join(
                    f"s={c['rule_strength']} h={c['bandwidth']:.3g} T={c['temperature']:.3g}"
                    f" c={c.get('tree_mass', 0):g}"
                    for c in (r["chosen"] for r in rows)
                )
                print(
                    "    MOLA's chosen rule strength, bandwidth, temperature, trees' mass per "
                    f"seed: {chosen}"
                )
    print()
    print("MOLA minus each baseline, accuracy points (mean ± std over seeds; seeds MOLA wins):")
    comparisons = {}
    for n in settings.scales:
        rows = [r for r in results if r["n"] == n]
        parts = []
        for m in methods[1:]:
            diffs = [100 * (r["scores"]["mola"][0] - r["scores"][m][0]) for r in rows]
            f1_diffs = [100 * (r["scores"]["mola"][1] - r["scores"][m][1]) for r in rows]
            mean, std = _mean_std(diffs)
            wins = sum(d > 0 for d in diffs)
            comparisons[(n, m)] = (mean, std, wins, statistics.fmean(f1_diffs))
            parts.append(f"{m} {mean:+.1f} ± {std:.1f} ({wins}/{len(rows)})")
        print(f"  {n:>5} examples: " + ";  ".join(parts))
    if LabelModel is None:
        print()
        print(SNORKEL_HINT)
    print()
    print(verdict(results, comparisons, settings, methods))


def _judge(mean: float, std: float, wins: int, n_seeds: int) -> str:
    if wins == n_seeds and mean > 0:
        return "beats"
    if wins == 0 and mean < 0:
        return "loses to"
    if abs(mean) < 1.0:
        return "ties with"
    return "is ahead of" if mean > 0 else "is behind"


def verdict(results: list[dict], comparisons: dict, settings: Settings, methods: list[str]) -> str:
    n_seeds = settings.seeds
    sentences = []
    for n in settings.scales:
        parts = []
        for m in methods[1:]:
            mean, std, wins, f1 = comparisons[(n, m)]
            word = _judge(mean, std, wins, n_seeds)
            parts.append(
                f"{word} {SHORT[m]} ({mean:+.1f} accuracy points, {wins}/{n_seeds} seeds, "
                f"macro-F1 {f1:+.1f})"
            )
        sentences.append(f"With {n} examples MOLA " + "; ".join(parts) + ".")
    weak = [
        f"{SHORT[m]} at {n} examples ({comparisons[(n, m)][0]:+.1f})"
        for n in settings.scales
        for m in methods[1:]
        if comparisons[(n, m)][2] < n_seeds
    ]
    if weak:
        sentences.append(
            "MOLA does not win on every seed against " + ", ".join(weak) + " — the settings "
            "for the learning engineer to look at."
        )
    else:
        sentences.append("MOLA wins on every seed against every baseline at every scale.")
    for m in ("rf", "hgb"):
        gaps = [comparisons[(n, m)][0] for n in settings.scales]
        if len(gaps) > 1:
            sentences.append(
                f"MOLA minus {SHORT[m]} goes from {gaps[0]:+.1f} to {gaps[-1]:+.1f} points as "
                f"examples grow from {settings.scales[0]} to {settings.scales[-1]}."
            )
    largest = [r for r in results if r["n"] == settings.scales[-1]]

    def mean_of(m: str) -> float:
        return statistics.fmean(r["scores"][m][0] for r in largest)

    sentences.append(
        f"The ablations at {settings.scales[-1]} examples, side by side: MOLA without "
        f"examples scores {mean_of('mola-no-examples'):.3f} against the majority vote's "
        f"{mean_of('vote'):.3f} (the rule side), and MOLA without rules "
        f"{mean_of('mola-no-rules'):.3f} against the random forest's {mean_of('rf'):.3f} and "
        f"gradient boosting's {mean_of('hgb'):.3f} on the same examples (the example side)."
    )
    lowest = min(LearningParams().rule_strengths)
    strengths = [r["chosen"]["rule_strength"] for r in results]
    if all(x == lowest for x in strengths):
        sentences.append(
            f"Every fit chose the smallest rule strength on offer ({lowest}): the calibration "
            "wants the rules weaker than its grid allows."
        )
    sentences.append(
        "Caveats: the world and teachers are generated by the MOLA team's own script, the truth "
        "is a decision list of axis-aligned boxes (friendly to trees) and the right rules "
        "paraphrase those boxes; MOLA alone also uses the concepts, the recorded precedences, "
        "counterexample links and the authors' expertise levels; the baselines run with default "
        "hyper-parameters, untuned."
    )
    return "Verdict: " + " ".join(sentences)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=None)
    parser.add_argument("--scales", default=None, help="comma-separated example counts")
    parser.add_argument("--quick", action="store_true", help="about 30 s: fewer seeds and rows")
    args = parser.parse_args()
    if args.quick:
        settings = Settings(args.seeds or 2, (200, 1000), 2000, 1000, 100, 100)
    else:
        settings = Settings(args.seeds or 5, (200, 2000), 5000, 3000, 150, 300)
    if args.scales:
        scales = tuple(int(x) for x in args.scales.split(","))
        settings = Settings(settings.seeds, scales, *list(vars(settings).values())[2:])
    warnings.filterwarnings("ignore", category=UserWarning)
    if LabelModel is not None:
        import torch

        torch.set_num_threads(1)  # tiny tensors: more threads only spin
    levels = ", ".join(
        f"{TEACHERS[lv]} {lv} ({RULES_PER_TEACHER[lv]} rules each; right/broad/wrong "
        f"{'/'.join(f'{p:.0%}' for p in RULE_KIND_P[lv])}; mislabel {MISLABEL[lv]:.0%})"
        for lv in TEACHERS
    )
    print(
        f"MOLA quality benchmark: {settings.seeds} seeds, scales {settings.scales} examples, "
        f"{N_FEATURES} features, {N_LABELS} labels, {settings.n_test} test cases, "
        f"{settings.n_unlabelled} unlabelled rows for Snorkel.\nTeachers: {levels}."
    )
    if LabelModel is None:
        print(SNORKEL_HINT)
    started = time.perf_counter()
    results = []
    for seed in range(settings.seeds):
        results += run_seed(seed, settings, print)
    report(results, settings)
    print(f"\n(total {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
