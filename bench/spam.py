"""Snorkel's YouTube spam tutorial, taught to MOLA: rules from its labelling functions, the
100 labelled dev comments as examples, scored on its 250 test comments.

    .venv/bin/python bench/spam.py [--data DIR] [--runs 5]

Data: the YouTube Spam Collection (T. C. Alberto, J. V. Lochter, T. A. Almeida, "TubeSpam:
Comment Spam Filtering on YouTube", ICMLA 2015; UCI data set 380, CC BY 4.0), read from
``--data``, else ``$MOLA_SPAM_DATA``, else ``../shared/data/youtube-spam`` beside the project.
Its ``snorkel_spam_split.csv`` reproduces the tutorial's split row by row (train 1,586 with
hidden labels, dev 100 drawn from train, test 250 Shakira comments).

Rules. The tutorial's final set has ten labelling functions; seven are keyword, pattern and
length tests, written here as MOLA rules with Snorkel's exact meaning (its keywords are
substrings of the lower-cased text, hence ``contains_text``; ``check.*out`` is its regular
expression; ``short_comment`` counts whitespace tokens, as ``words()`` does). The other
three need spaCy's ``en_core_web_sm`` (a person's name in a short comment) and TextBlob's
sentiment lexicon (polarity, subjectivity): statistical models MOLA does not run and this
machine cannot download, so they are left out of every MOLA row — MOLA's rows have 3 fewer
teachings than Snorkel's. ``--words`` prints the same rows with ``contains`` (whole words:
"my" no longer fires inside "mystery") in place of ``contains_text``.

Scores (accuracy, and F1 with spam as the positive class, on the test comments; and accuracy
on the tutorial's 120 labelled *valid* comments, drawn from the test's video but never the
same comments — the split to compare settings on, since dev and pool come from the four other
videos and the test set must not choose anything): the rules' majority vote with
Snorkel's tie-break (ties and comments no rule covers are decided by a hash of the row
position, as ``snorkel.utils.probs_to_preds`` does), MOLA's model fitted on the rules and
the dev examples, the same with the 1,586 unlabelled train comments as the space's case
pool (their labels are never read; the row says whether the end-model candidate was
served: mola.engine.learning.pool), and Snorkel's three published accuracies (10 labelling
functions; its end model also trains on the 1,586 unlabelled train comments).
Times are CPU seconds (``time.process_time``), medians over ``--runs``.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import hashlib
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mola.engine.language import compile_condition  # noqa: E402
from mola.engine.learning import ExampleSpec, RuleSpec, Snapshot, fit  # noqa: E402
from mola.engine.schema import Schema  # noqa: E402
from mola.engine.table import table_from_rows  # noqa: E402

SPAM, HAM = "spam", "ham"
SCHEMA = Schema.from_dicts(
    [{"name": "comment", "kind": "text", "max_length": 10_000}], [{"name": SPAM}, {"name": HAM}]
)
# Snorkel's labelling functions 0-6, in its order: (name, MOLA condition, label).
SNORKEL_RULES = [
    ("keyword_my", 'comment contains_text "my"', SPAM),
    ("keyword_subscribe", 'comment contains_text "subscribe"', SPAM),
    ("keyword_http", 'comment contains_text "http"', SPAM),
    ("keyword_please", 'comment contains_text "please" or comment contains_text "plz"', SPAM),
    ("keyword_song", 'comment contains_text "song"', HAM),
    ("regex_check_out", "comment matches /check.*out/i", SPAM),
    ("short_comment", "words(comment) < 5", HAM),
]
# Snorkel's published test accuracies (spam/01_spam_tutorial.ipynb), 10 labelling functions.
PUBLISHED = [
    ("Snorkel majority vote (10 LFs)", 0.840),
    ("Snorkel LabelModel (10 LFs)", 0.860),
    ("Snorkel end model (LogReg on 1-5-grams, + 1,586 unlabelled)", 0.944),
]


def data_dir(given: str | None) -> Path:
    for candidate in (given, os.environ.get("MOLA_SPAM_DATA")):
        if candidate:
            return Path(candidate)
    return ROOT.parent / "shared" / "data" / "youtube-spam"


def load_split(folder: Path) -> dict[str, list[tuple[str, int]]]:
    """Split name → [(comment text, 1 spam / 0 ham)] in the tutorial's order."""
    split_file = folder / "snorkel_spam_split.csv"
    if not split_file.exists():
        sys.exit(
            f"The YouTube spam data is missing: {split_file} not found. Give its folder with "
            "--data DIR or MOLA_SPAM_DATA=DIR (the five Youtube0*.csv files and "
            "snorkel_spam_split.csv)."
        )
    sources: dict[str, list[dict[str, str]]] = {}
    splits: dict[str, list[tuple[str, int]]] = {}
    with split_file.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            name = row["source_file"]
            if name not in sources:
                with (folder / name).open(newline="", encoding="utf-8") as source:
                    sources[name] = list(csv.DictReader(source))
            original = sources[name][int(row["source_row"])]
            assert original["COMMENT_ID"] == row["COMMENT_ID"], (name, row["source_row"])
            label = int(original["CLASS"])
            splits.setdefault(row["split"], []).append((original["CONTENT"], label))
    return splits


def rules(words: bool) -> list[RuleSpec]:
    specs = []
    for number, (_name, condition, label) in enumerate(SNORKEL_RULES, start=1):
        if words:
            condition = condition.replace("contains_text", "contains")
        specs.append(
            RuleSpec(
                id=number,
                label=label,
                author="snorkel",
                expertise="expert",
                condition=compile_condition(condition, SCHEMA),
            )
        )
    return specs


def examples(dev: list[tuple[str, int]]) -> list[ExampleSpec]:
    return [
        ExampleSpec(
            id=1000 + i,
            features={"comment": text},
            label=SPAM if label else HAM,
            author="dev",
            expertise="expert",
        )
        for i, (text, label) in enumerate(dev)
    ]


def majority_vote(specs: list[RuleSpec], texts: list[str]) -> np.ndarray:
    """1 spam / 0 ham per text: the most votes; ties (and no votes) broken by Snorkel's
    deterministic hash of the row position."""
    table = table_from_rows(SCHEMA, [{"comment": t} for t in texts])
    votes = np.zeros((len(texts), 2))
    for spec in specs:
        votes[:, 1 if spec.label == SPAM else 0] += spec.condition.evaluate(table)
    predictions = np.empty(len(texts), dtype=int)
    for i, row in enumerate(votes):
        tied = np.flatnonzero(row == row.max())
        predictions[i] = tied[int(hashlib.sha1(str(i).encode()).hexdigest(), 16) % len(tied)]
    return predictions


def scores(predicted: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    accuracy = float(np.mean(predicted == truth))
    tp = float(np.sum((predicted == 1) & (truth == 1)))
    fp = float(np.sum((predicted == 1) & (truth == 0)))
    fn = float(np.sum((predicted == 0) & (truth == 1)))
    f1 = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
    return accuracy, f1


def cpu(function, runs: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        started = time.process_time()
        result = function()
        times.append(time.process_time() - started)
    return statistics.median(times), result


def mola_rows(splits, words: bool, runs: int, pool: bool) -> list[tuple]:
    specs = rules(words)
    test_texts = [t for t, _ in splits["test"]]
    truth = np.array([label for _, label in splits["test"]])
    valid_texts = [t for t, _ in splits["valid"]]
    valid_truth = np.array([label for _, label in splits["valid"]])
    how = "contains" if words else "contains_text"
    rows = []
    if not pool:
        accuracy, f1 = scores(majority_vote(specs, test_texts), truth)
        valid, _ = scores(majority_vote(specs, valid_texts), valid_truth)
        rows.append((f"MOLA rules, majority vote (7 rules, {how})", accuracy, f1, valid, ""))
    cases = tuple({"comment": t} for t, _ in splits["train"]) if pool else ()
    snapshot = Snapshot(
        schema=SCHEMA, rules=tuple(specs), examples=tuple(examples(splits["dev"])), pool=cases
    )
    name = f"MOLA model (7 rules + 100 dev examples{' + pool' if pool else ''}, {how})"
    fit_time, model = cpu(lambda: fit(snapshot), runs)
    test = table_from_rows(SCHEMA, [{"comment": t} for t in test_texts])
    predict_time, labels = cpu(lambda: model.predict(test), runs)
    predicted = np.array([1 if label == SPAM else 0 for label in labels])
    accuracy, f1 = scores(predicted, truth)
    valid_labels = model.predict(table_from_rows(SCHEMA, [{"comment": t} for t in valid_texts]))
    valid, _ = scores(np.array([1 if label == SPAM else 0 for label in valid_labels]), valid_truth)
    big = table_from_rows(SCHEMA, [{"comment": t} for t in (test_texts * 40)][:10_000])
    big_time, _ = cpu(lambda: model.predict(big), max(1, runs // 2))
    one = [table_from_rows(SCHEMA, [{"comment": t}]) for t in test_texts[:200]]
    single = []
    for table in one:
        started = time.process_time()
        model.predict(table)
        single.append(time.process_time() - started)
    timing = (
        f"fit {fit_time:.2f} s, predict 1 {statistics.median(single) * 1000:.1f} ms, "
        f"250 {predict_time * 1000:.0f} ms, 10,000 {big_time:.2f} s"
    )
    if pool:
        used = model.metrics_["pool"]
        texts = used.get("texts") or {}
        end = texts.get("end_model") or {}
        timing = (
            f"pool {used['cases']} cases: rule counts {'kept' if used['rules_kept'] else 'left out'}"
            f", texts in the blend {'kept' if texts.get('kept') else 'left out'}"
            f", end model {'served' if end.get('kept') else 'left out'}"
            f", texts read as {model.metrics_['parameters']['text_representation']}"
            f" (held-out log loss blend / end model {end.get('blend_log_loss')}); " + timing
        )
    rows.append((name, accuracy, f1, valid, timing))
    if pool and model.text_ is not None:
        rows.append(_text_alone(snapshot, test, truth, how))
    return rows


def _text_alone(snapshot, test, truth, how: str) -> tuple:
    """The texts' regression fitted with the pool, scored by itself (a diagnostic)."""
    from mola.engine.learning.pool import PoolTexts, fit_label_model_on, prepare_pool
    from mola.engine.learning.text import TextReader

    plain = fit(dataclasses.replace(snapshot, pool=()))
    labels = np.array([0 if e.label == SPAM else 1 for e in snapshot.examples])
    rule_labels = np.array([0 if r.label == SPAM else 1 for r in snapshot.rules])
    rows = [e.features for e in snapshot.examples]
    pool = prepare_pool(
        SCHEMA, snapshot.pool, plain.matcher_, np.zeros(0, int), np.zeros(0, int), 0, rows
    )
    table = table_from_rows(SCHEMA, rows)
    fired, _ = plain.matcher_.match(table)
    covered = np.stack([fired.astype(float) @ (labels == k) for k in (0, 1)], axis=1)
    counts = np.bincount(labels, minlength=2).astype(float)
    fit_label_model_on(pool, [r.expertise for r in snapshot.rules], rule_labels, covered, counts, 2)
    reader = TextReader(["comment"], 2)
    reader.representation = plain.text_.representation  # the one its out-of-fold loss chose
    texts = PoolTexts(reader, pool.label_model.posteriors)
    documents = reader.documents(table)
    texts.fit(
        documents,
        reader.documents(pool.table),
        labels,
        np.ones(len(labels)),
        ["dev"] * len(labels),
        0,
    )
    if reader.fitted is None:
        return (f"  text regression alone, with pool ({how})", np.nan, np.nan, np.nan, "not fitted")
    predicted = (reader.table_probabilities(test)[:, 0] > 0.5).astype(int)
    accuracy, f1 = scores(predicted, truth)
    return (f"  text regression alone, with pool ({how})", accuracy, f1, np.nan, "diagnostic")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", help="folder of the YouTube spam CSV files")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--words", action="store_true", help="also rows with contains")
    args = parser.parse_args()
    splits = load_split(data_dir(args.data))
    print(
        f"split: train {len(splits['train'])} (labels unused), dev {len(splits['dev'])}, "
        f"test {len(splits['test'])} ({sum(label for _, label in splits['test'])} spam); "
        f"load {os.getloadavg()[0]:.2f}"
    )
    rows = mola_rows(splits, False, args.runs, pool=False)
    rows += mola_rows(splits, False, args.runs, pool=True)
    if args.words:
        rows += mola_rows(splits, True, args.runs, pool=False)
        rows += mola_rows(splits, True, args.runs, pool=True)
    rows += [(name, accuracy, np.nan, np.nan, "published") for name, accuracy in PUBLISHED]
    print(f"{'method':<74} {'accuracy':>8} {'F1':>6} {'valid':>6}  notes")
    for name, accuracy, f1, valid, note in rows:
        shown_f1 = "   -  " if np.isnan(f1) else f"{f1:6.3f}"
        shown_accuracy = "    -   " if np.isnan(accuracy) else f"{accuracy:8.1%}"
        shown_valid = "   -  " if np.isnan(valid) else f"{valid:6.1%}"
        print(f"{name:<74} {shown_accuracy} {shown_f1} {shown_valid}  {note}")


if __name__ == "__main__":
    main()
