"""Evaluation the community agrees on: verdicts on labelled cases, inter-rater agreement, a
version's scorecard, and what a new version changed and why. Plain Python (no Django).

Verdicts. Each member labels a case once. A label counts with the member's weight: their
expertise weight (what a master says counts four times a novice) times their agreement with
the community's agreed labels, smoothed towards ``PRIOR_AGREEMENT`` so that a member with few
labelled cases is neither trusted blindly nor ignored. Agreement depends on the agreed
labels, which depend on the weights: ``verdicts`` breaks the circle with two passes (first
by expertise alone, then with each member's agreement on those verdicts).

A case is *agreed* on a label when that label's share of the weight passes the space's
threshold with at least ``min_labels`` labels, *open* while it has fewer labels, and
*contested* otherwise.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import krippendorff
import numpy as np

from mola.engine.table import checked_table

OPEN, AGREED, CONTESTED = "open", "agreed", "contested"
DEFAULT_THRESHOLD = 0.7
DEFAULT_MIN_LABELS = 2
# A member with no labelled agreed case counts as agreeing 80 % of the time; five agreed
# cases weigh as much as that prior.
PRIOR_AGREEMENT = 0.8
PRIOR_CASES = 5.0
ECE_BINS = 10

Member = Hashable
Ref = tuple[str, int]


@dataclass(frozen=True)
class Verdict:
    status: str
    label: str | None  # the agreed label; for an open or contested case, the leading one
    shares: dict[str, float]  # label → share of the weight (sums to 1 when labelled)
    n_labels: int


def case_verdict(
    labels: Mapping[Member, str],
    weights: Mapping[Member, float],
    *,
    threshold: float = DEFAULT_THRESHOLD,
    min_labels: int = DEFAULT_MIN_LABELS,
) -> Verdict:
    """The verdict on one case from its members' ``labels`` and their ``weights``
    (a member missing from ``weights`` counts 1)."""
    totals: dict[str, float] = defaultdict(float)
    for member, label in labels.items():
        totals[label] += max(float(weights.get(member, 1.0)), 0.0)
    whole = sum(totals.values())
    if not labels or whole <= 0:
        return Verdict(OPEN, None, {}, len(labels))
    shares = {label: totals[label] / whole for label in sorted(totals)}
    leading = max(shares, key=lambda label: (shares[label], -sorted(shares).index(label)))
    if len(labels) < min_labels:
        return Verdict(OPEN, leading, shares, len(labels))
    # A share that equals the threshold passes it only when it is strictly above: 0.7 of
    # the weight with the default is not enough (rounding must not tip it).
    status = AGREED if shares[leading] > threshold + 1e-12 else CONTESTED
    return Verdict(status, leading, shares, len(labels))


@dataclass(frozen=True)
class MemberAgreement:
    agreeing: int  # their labels on agreed cases that match the agreed label
    labelled: int  # their labels on agreed cases

    @property
    def share(self) -> float | None:
        return self.agreeing / self.labelled if self.labelled else None

    @property
    def smoothed(self) -> float:
        return (self.agreeing + PRIOR_AGREEMENT * PRIOR_CASES) / (self.labelled + PRIOR_CASES)


def member_agreement(
    cases: Mapping[Hashable, Mapping[Member, str]], agreed: Mapping[Hashable, str]
) -> dict[Member, MemberAgreement]:
    """Each labelling member's agreement with the ``agreed`` labels."""
    agreeing: dict[Member, int] = defaultdict(int)
    labelled: dict[Member, int] = defaultdict(int)
    members: set[Member] = set()
    for case, labels in cases.items():
        members.update(labels)
        truth = agreed.get(case)
        if truth is None:
            continue
        for member, label in labels.items():
            labelled[member] += 1
            agreeing[member] += label == truth
    return {m: MemberAgreement(agreeing[m], labelled[m]) for m in members}


@dataclass
class Verdicts:
    verdicts: dict[Hashable, Verdict]
    agreement: dict[Member, MemberAgreement]
    weights: dict[Member, float]


def verdicts(
    cases: Mapping[Hashable, Mapping[Member, str]],
    expertise_weights: Mapping[Member, float],
    *,
    threshold: float = DEFAULT_THRESHOLD,
    min_labels: int = DEFAULT_MIN_LABELS,
    settled: Mapping[Hashable, str] | None = None,
) -> Verdicts:
    """Every case's verdict with weights = expertise × smoothed agreement.

    ``settled``: cases a moderator's resolution settled (their label is final and counts
    as agreed when measuring members' agreement). Two passes: agreement measured on the
    verdicts by expertise alone, then the verdicts with it.
    """
    settled = dict(settled or {})

    def agreed_labels(found: Mapping[Hashable, Verdict]) -> dict[Hashable, str]:
        agreed = {c: v.label for c, v in found.items() if v.status == AGREED and v.label}
        return {**agreed, **settled}

    def decide(weights: Mapping[Member, float]) -> dict[Hashable, Verdict]:
        return {
            case: case_verdict(labels, weights, threshold=threshold, min_labels=min_labels)
            for case, labels in cases.items()
        }

    first = decide(expertise_weights)
    agreement = member_agreement(cases, agreed_labels(first))
    weights = {
        member: float(expertise_weights.get(member, 1.0)) * agreement[member].smoothed
        for member in agreement
    }
    final = decide(weights)
    return Verdicts(final, member_agreement(cases, agreed_labels(final)), weights)


# --- inter-rater agreement ------------------------------------------------------------------


@dataclass(frozen=True)
class Alpha:
    overall: float | None
    per_label: dict[str, float | None]


def reliability_matrix(
    cases: Sequence[Mapping[Member, str]], labels: Sequence[str]
) -> tuple[np.ndarray, list[Member]]:
    """(raters × cases) label codes (index in ``labels``), NaN where a rater said nothing."""
    raters = sorted({m for case in cases for m in case}, key=str)
    row = {m: i for i, m in enumerate(raters)}
    code = {label: float(i) for i, label in enumerate(labels)}
    data = np.full((len(raters), len(cases)), np.nan)
    for column, case in enumerate(cases):
        for member, label in case.items():
            if label in code:
                data[row[member], column] = code[label]
    return data, raters


def krippendorff_alpha(cases: Sequence[Mapping[Member, str]], labels: Sequence[str]) -> Alpha:
    """Krippendorff's alpha (nominal) over every labelled case, and per label (that label
    against all others). None where it is undefined (fewer than two pairable values, or a
    single value throughout)."""
    data, _ = reliability_matrix(cases, labels)
    overall = _alpha(data)
    per_label = {}
    for index, label in enumerate(labels):
        binary = np.where(np.isnan(data), np.nan, (data == index).astype(float))
        per_label[label] = _alpha(binary)
    return Alpha(overall, per_label)


def _alpha(data: np.ndarray) -> float | None:
    if data.size == 0:
        return None
    pairable = np.sum(~np.isnan(data), axis=0) >= 2
    values = data[:, pairable]
    if values.size == 0 or len(np.unique(values[~np.isnan(values)])) < 2:
        return None
    value = krippendorff.alpha(reliability_data=data, level_of_measurement="nominal")
    return None if np.isnan(value) else float(value)


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
