"""Snorkel's baselines for bench/quality.py ``--snorkel``, used as its spam tutorial uses them.

Snorkel is a benchmark-only package, not in the lock files (it brings torch, gigabytes for one
comparison): ``pip install snorkel==0.10.0`` into any environment that also has the project's
requirements, then run the bench with it.

- *LabelModel*: fitted on the rules' votes (a rule votes its label where it fires, abstains
  elsewhere) over ``UNLABELLED`` unlabelled cases of the world, the tutorial's ``L_train``
  (500 epochs, seed 123); the test cases are predicted from their votes, and where it
  abstains (no rule fires, or a tie) the most frequent training label is said, as the
  rules' majority vote does.
- *End model*: as the tutorial trains it — the unlabelled cases no rule covers are dropped
  (``filter_unlabeled_dataframe``), the LabelModel's probabilities become labels
  (``probs_to_preds``) and a ``LogisticRegression(C=1e3, solver="liblinear")`` is fitted on
  the cases' features (here their values: numbers scaled, a missing one imputed), one
  versus the rest as liblinear did before scikit-learn 1.8 refused it more than two labels.

Neither sees the labelled examples (the tutorial keeps them for developing the labelling
functions) nor the concepts (they are not labelling functions).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

UNLABELLED = 2000


def available() -> bool:
    try:
        import snorkel.labeling.model  # noqa: F401
    except ImportError:
        return False
    return True


def votes(fires: np.ndarray, rule_labels: np.ndarray) -> np.ndarray:
    """Snorkel's label matrix: rows × rules, the rule's label where it fires, -1 elsewhere."""
    return np.where(fires, rule_labels[None, :], -1).astype(np.int64)


def snorkel_predictions(
    l_unlabelled: np.ndarray,
    x_unlabelled: np.ndarray,
    l_test: np.ndarray,
    x_test: np.ndarray,
    n_labels: int,
) -> dict[str, np.ndarray]:
    """{"snorkel-lm": LabelModel's labels, -1 where it abstains; "snorkel-end": the end
    model's} for the test rows. Neither depends on the labelled examples."""
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from snorkel.labeling.model import LabelModel
    from snorkel.utils import probs_to_preds

    label_model = LabelModel(cardinality=n_labels, verbose=False)
    label_model.fit(L_train=l_unlabelled, n_epochs=500, log_freq=100, seed=123, progress_bar=False)
    said = label_model.predict(l_test, tie_break_policy="abstain")
    covered = (l_unlabelled >= 0).any(axis=1)
    targets = probs_to_preds(label_model.predict_proba(l_unlabelled[covered]))
    if len(np.unique(targets)) < 2:
        end = np.full(len(x_test), targets[0] if len(targets) else 0)
    else:
        model = make_pipeline(
            SimpleImputer(strategy="median", keep_empty_features=True),
            StandardScaler(),
            OneVsRestClassifier(LogisticRegression(C=1e3, solver="liblinear")),
        )
        end = model.fit(x_unlabelled[covered], targets).predict(x_test)
    return {"snorkel-lm": said, "snorkel-end": np.asarray(end, dtype=np.int64)}


def snorkel_cell(teaching, scales, n_test: int, seed: int) -> list[dict]:
    """Accuracy of the rules' majority vote and Snorkel's two baselines per scale, on the
    test cases bench/quality.py scores everything on (same seeds)."""
    from bench._quality_baselines import firing, held_out_cases, majority_vote, values
    from mola.engine.table import table_from_rows

    schema = teaching.schema
    index = {name: i for i, name in enumerate(schema.label_names)}
    held_out = held_out_cases(teaching, n_test)
    test, y_test = held_out.table, held_out.labels
    unlabelled = table_from_rows(
        schema, teaching.world.sample_rows(UNLABELLED, np.random.default_rng(700_001 + seed))
    )
    conditions = [r.condition for r in teaching.rules]
    rule_labels = np.array([index[r.label] for r in teaching.rules])
    test_fires = firing(conditions, test)
    l_unlabelled = votes(firing(conditions, unlabelled), rule_labels)
    l_test = votes(test_fires, rule_labels)
    fitted = snorkel_predictions(
        l_unlabelled, values(schema, unlabelled), l_test, values(schema, test), len(index)
    )
    results = []
    for n in scales:  # the examples only say the most frequent label, for abstentions
        training = [e for e in teaching.snapshot(n).examples if not e.evaluation]
        y = np.array([index[e.label] for e in training])
        frequency = np.bincount(y, minlength=len(index)).astype(float)
        lm = fitted["snorkel-lm"]
        said = {
            "snorkel-lm": np.where(lm < 0, int(np.argmax(frequency)), lm),
            "snorkel-end": fitted["snorkel-end"],
            "vote": majority_vote(test_fires, rule_labels, frequency),
        }
        accuracy = {m: float((p == y_test).mean()) for m, p in said.items()}
        results.append({"family": teaching.family, "seed": seed, "n": n, "accuracy": accuracy})
    return results


def report_snorkel(results: list[dict], families, scales) -> None:
    print("\n| family | examples | rules' majority vote | Snorkel LabelModel | Snorkel end model |")
    print("| --- | --- | --- | --- | --- |")
    for family in families:
        for n in scales:
            rows = [r for r in results if r["family"] == family and r["n"] == n]
            if rows:
                mean = {
                    m: float(np.mean([r["accuracy"][m] for r in rows]))
                    for m in ("vote", "snorkel-lm", "snorkel-end")
                }
                print(
                    f"| {family} | {n} | {mean['vote']:.3f} | {mean['snorkel-lm']:.3f} | "
                    f"{mean['snorkel-end']:.3f} |"
                )


def run(settings, world_examples: int, save: str | None) -> None:
    """Every family and seed of ``settings`` (bench/quality.py's), then the table."""
    from bench._quality_world import build

    if not available():
        sys.exit("snorkel is not installed (bench/_quality_snorkel.py says how).")
    found = []
    for family in settings.families:
        for seed in settings.seed_range:
            teaching = build(family, seed, world_examples)
            found += snorkel_cell(teaching, settings.scales, settings.n_test, seed)
            print(f"  {family} seed {seed}: done", flush=True)
            if save:
                Path(save).write_text(json.dumps(found))
    report_snorkel(found, settings.families, settings.scales)
