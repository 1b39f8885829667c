"""Verdicts on labelled cases and inter-rater agreement. Plain Python (no Django).

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

from collections import defaultdict
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass

import krippendorff
import numpy as np

OPEN, AGREED, CONTESTED = "open", "agreed", "contested"
DEFAULT_THRESHOLD = 0.7
DEFAULT_MIN_LABELS = 2
# A member with no labelled agreed case counts as agreeing 80 % of the time; five agreed
# cases weigh as much as that prior.
PRIOR_AGREEMENT = 0.8
PRIOR_CASES = 5.0

Member = Hashable


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
