"""A version's scorecard on the agreed cases, and what a new version changed and why: which
cases and sampled inputs it now answers otherwise, and the teachings those answers name.
Plain Python (no Django).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mola.engine.table import checked_table

ECE_BINS = 10

Ref = tuple[str, int]


# --- scorecard --------------------------------------------------------------------------------


def scorecard(
    truth: Sequence[str],
    predicted: Sequence[str],
    confidence: Sequence[float],
    labels: Sequence[str],
) -> dict[str, Any]:
    """Accuracy, macro-F1 (over the labels that occur in truth or answers), per-label
    precision and recall, and the expected calibration error of the answers' confidence
    (``ECE_BINS`` equal-width bins), on the agreed cases."""
    n = len(truth)
    if n == 0:
        return {"n_cases": 0, "accuracy": None, "macro_f1": None, "per_label": {}, "ece": None}
    truth_a = np.asarray(truth, dtype=object)
    predicted_a = np.asarray(predicted, dtype=object)
    right = truth_a == predicted_a
    per_label: dict[str, dict[str, float | None]] = {}
    f1s = []
    for label in labels:
        is_truth, is_answer = truth_a == label, predicted_a == label
        if not is_truth.any() and not is_answer.any():
            continue
        hits = int(np.sum(is_truth & is_answer))
        precision = hits / int(is_answer.sum()) if is_answer.any() else None
        recall = hits / int(is_truth.sum()) if is_truth.any() else None
        per_label[label] = {
            "precision": None if precision is None else round(precision, 4),
            "recall": None if recall is None else round(recall, 4),
            "support": int(is_truth.sum()),
        }
        p, r = precision or 0.0, recall or 0.0
        f1s.append(2 * p * r / (p + r) if p + r else 0.0)
    return {
        "n_cases": n,
        "accuracy": round(float(right.mean()), 4),
        "macro_f1": round(float(np.mean(f1s)), 4) if f1s else None,
        "per_label": per_label,
        "ece": round(expected_calibration_error(right, np.asarray(confidence, float)), 4),
    }


def expected_calibration_error(right: np.ndarray, confidence: np.ndarray) -> float:
    """Σ over confidence bins of |accuracy − mean confidence| weighted by the bin's share."""
    bins = np.minimum((confidence * ECE_BINS).astype(int), ECE_BINS - 1)
    total = 0.0
    for b in np.unique(bins):
        inside = bins == b
        total += inside.mean() * abs(right[inside].mean() - confidence[inside].mean())
    return float(total)


# --- what a version changed, and why ----------------------------------------------------------


def explanation_refs(explanation: Any, concept_ids: Mapping[str, int]) -> set[Ref]:
    """The teachings an explanation names: the rules that fired, the concepts that held, the
    nearest examples."""
    refs: set[Ref] = {("rule", int(r["id"])) for r in explanation.rules}
    refs |= {("example", int(e["id"])) for e in explanation.examples}
    refs |= {("concept", concept_ids[name]) for name in explanation.concepts if name in concept_ids}
    return refs


def deciding_refs(explanation: Any) -> set[Ref]:
    """The teachings that speak for the explanation's answer: the rules that fired with its
    label and the nearest examples with it."""
    label = explanation.label
    refs: set[Ref] = {("rule", int(r["id"])) for r in explanation.rules if r["label"] == label}
    return refs | {("example", int(e["id"])) for e in explanation.examples if e["label"] == label}


def change_causes(
    old: Any, new: Any, changed: set[Ref], concept_ids: Mapping[str, int]
) -> set[Ref]:
    """Which of the ``changed`` teachings (written between the two versions) made this
    row's answer change: those in the difference of the two explanations; when none is (a
    new example moved a rule's reliability from afar, say), every changed teaching either
    explanation names; else nothing (a refit of the same teachings)."""
    before, after = explanation_refs(old, concept_ids), explanation_refs(new, concept_ids)
    named = (before ^ after) & changed
    return named or ((before | after) & changed)


@dataclass
class ChangeReport:
    now_right: list[Hashable] = field(default_factory=list)
    now_wrong: list[Hashable] = field(default_factory=list)
    changed_cases: list[Hashable] = field(default_factory=list)
    traffic_changed: int = 0
    traffic_total: int = 0
    # ref → {"cases": [case], "answers": how many sampled inputs}
    causes: dict[Ref, dict[str, Any]] = field(default_factory=dict)
    # ref → cases it decided before and no longer does (for its author's inbox)
    displaced: dict[Ref, list[Hashable]] = field(default_factory=dict)

    @property
    def traffic_changed_share(self) -> float | None:
        return self.traffic_changed / self.traffic_total if self.traffic_total else None


def answers_compared(
    case_ids: Sequence[Hashable], truth: Sequence[str], old: Sequence[str], new: Sequence[str]
) -> tuple[list[Hashable], list[Hashable], list[int]]:
    """Agreed cases now right, now wrong, and the positions of every changed answer."""
    now_right, now_wrong, changed = [], [], []
    for i, (case, label, before, after) in enumerate(zip(case_ids, truth, old, new, strict=True)):
        if before == after:
            continue
        changed.append(i)
        if after == label:
            now_right.append(case)
        elif before == label:
            now_wrong.append(case)
    return now_right, now_wrong, changed


def change_report(
    *,
    case_ids: Sequence[Hashable],
    truth: Sequence[str],
    case_old: Sequence[Any],
    case_new: Sequence[Any],
    traffic_old: Sequence[Any],
    traffic_new: Sequence[Any],
    traffic_total: int,
    changed: set[Ref],
    concept_ids: Mapping[str, int],
) -> ChangeReport:
    """What a version changed against the previous one, from the explanations of the rows
    whose answer changed (``case_old``/``case_new``: the agreed cases' old and new
    explanations in ``case_ids`` order, ``traffic_*``: the changed sampled inputs' only,
    of ``traffic_total`` sampled)."""
    report = ChangeReport(traffic_total=traffic_total, traffic_changed=len(traffic_new))
    old_labels = [e.label for e in case_old]
    new_labels = [e.label for e in case_new]
    report.now_right, report.now_wrong, positions = answers_compared(
        case_ids, truth, old_labels, new_labels
    )
    report.changed_cases = [case_ids[i] for i in positions]
    for i in positions:
        causes = change_causes(case_old[i], case_new[i], changed, concept_ids)
        for ref in causes:
            report.causes.setdefault(ref, {"cases": [], "answers": 0})["cases"].append(case_ids[i])
        if causes:
            for ref in deciding_refs(case_old[i]) - deciding_refs(case_new[i]) - changed:
                report.displaced.setdefault(ref, []).append(case_ids[i])
    for old, new in zip(traffic_old, traffic_new, strict=True):
        for ref in change_causes(old, new, changed, concept_ids):
            report.causes.setdefault(ref, {"cases": [], "answers": 0})["answers"] += 1
    return report


def changed_positions(old: Iterable[str], new: Iterable[str]) -> list[int]:
    return [i for i, (a, b) in enumerate(zip(old, new, strict=True)) if a != b]


# --- one version against the previous one, end to end ----------------------------------------


@dataclass
class VersionEvaluation:
    scorecard: dict[str, Any]
    answers: dict[Hashable, str]  # agreed case → the new version's answer
    report: ChangeReport | None  # None without a previous version
    input_answers: dict[str, str] = field(default_factory=dict)  # row_key → answer


def row_key(row: Mapping[str, Any]) -> str:
    """A short stable key of one input row (its values, whatever their order)."""
    data = json.dumps(row, sort_keys=True, default=str).encode()
    return hashlib.blake2b(data, digest_size=8).hexdigest()


def _answered(model: Any, schema: Any, rows: Sequence[Mapping[str, Any]]):
    """Labels and confidences of the rows the schema accepts, and their positions."""
    if not rows or not model.labels_:
        return [], np.zeros(0), []
    table, refused = checked_table(schema, rows)
    keep = [i for i in range(len(rows)) if i not in set(refused)]
    if refused:  # a schema change made a stored row invalid: left out
        table, _ = checked_table(schema, [rows[i] for i in keep])
    probabilities = model.predict_proba(table)
    labels = [model.labels_[i] for i in probabilities.argmax(axis=1)]
    return labels, probabilities.max(axis=1), keep


def _explained(model: Any, schema: Any, rows: Sequence[Mapping[str, Any]]) -> list[Any]:
    return model.explain(checked_table(schema, rows)[0]) if rows else []


def evaluate_version(
    *,
    model: Any,
    schema: Any,
    case_ids: Sequence[Hashable],
    case_rows: Sequence[Mapping[str, Any]],
    truth: Sequence[str],
    previous: Callable[[], Any] | None = None,
    previous_answers: Mapping[Hashable, str] | None = None,
    traffic: Sequence[Mapping[str, Any]] = (),
    previous_input_answers: Mapping[str, str] | None = None,
    changed: set[Ref] | None = None,
    concept_ids: Mapping[str, int] | None = None,
) -> VersionEvaluation:
    """A new version's scorecard on the agreed cases and, when there is a ``previous``
    version (a callable that loads its model, called only if needed), what it changed.

    ``previous_answers``: the previous version's stored answers on the agreed cases, and
    ``previous_input_answers`` on sampled inputs (by ``row_key``): only what they lack is
    asked of the previous model. ``traffic``: sampled recent inputs. ``changed``: the teachings written between the two versions. Only rows whose
    answer changed are explained, by both models.
    """
    answers, confidence, kept = _answered(model, schema, case_rows)
    ids = [case_ids[i] for i in kept]
    rows = [case_rows[i] for i in kept]
    labels_truth = [truth[i] for i in kept]
    result = VersionEvaluation(
        scorecard=scorecard(labels_truth, answers, confidence, schema.label_names),
        answers=dict(zip(ids, answers, strict=True)),
        report=None,
    )
    if previous is None:
        return result
    loaded: list[Any] = []

    def old_model() -> Any:
        if not loaded:
            loaded.append(previous())
        return loaded[0]

    stored = previous_answers or {}
    old_answers = [stored.get(case) for case in ids]
    missing = [i for i, label in enumerate(old_answers) if label is None]
    if missing:
        asked, _, asked_kept = _answered(old_model(), schema, [rows[i] for i in missing])
        for position, label in zip(asked_kept, asked, strict=True):
            old_answers[missing[position]] = label
    changed_cases = changed_positions([a or "" for a in old_answers], answers)
    new_traffic, _, traffic_kept = _answered(model, schema, traffic)
    traffic_rows = [traffic[i] for i in traffic_kept]
    keys = [row_key(row) for row in traffic_rows]
    result.input_answers = dict(zip(keys, new_traffic, strict=True))
    known = previous_input_answers or {}
    old_traffic = [known.get(key) for key in keys]
    unknown = [i for i, label in enumerate(old_traffic) if label is None]
    if unknown:
        asked = _answered(old_model(), schema, [traffic_rows[i] for i in unknown])[0]
        for i, label in zip(unknown, asked, strict=True):
            old_traffic[i] = label
    changed_traffic = changed_positions([a or "" for a in old_traffic], new_traffic)
    case_changed_rows = [rows[i] for i in changed_cases]
    traffic_changed_rows = [traffic_rows[i] for i in changed_traffic]
    needs_old = bool(case_changed_rows or traffic_changed_rows)
    result.report = change_report(
        case_ids=[ids[i] for i in changed_cases],
        truth=[labels_truth[i] for i in changed_cases],
        case_old=_explained(old_model(), schema, case_changed_rows) if needs_old else [],
        case_new=_explained(model, schema, case_changed_rows),
        traffic_old=_explained(old_model(), schema, traffic_changed_rows) if needs_old else [],
        traffic_new=_explained(model, schema, traffic_changed_rows),
        traffic_total=len(traffic_rows),
        changed=changed or set(),
        concept_ids=concept_ids or {},
    )
    return result
