"""Evaluation the community agrees on. Plain Python (no Django).

``verdicts``: what the community agrees each labelled case is, and how far its members agree
(Krippendorff's alpha). ``versions``: a model version's scorecard on the agreed cases, and
what a new version changed and why. The evaluation app imports this package as a whole.
"""

from mola.engine.evaluation.verdicts import (
    AGREED,
    CONTESTED,
    DEFAULT_MIN_LABELS,
    DEFAULT_THRESHOLD,
    OPEN,
    PRIOR_AGREEMENT,
    PRIOR_CASES,
    Alpha,
    MemberAgreement,
    Verdict,
    Verdicts,
    case_verdict,
    krippendorff_alpha,
    member_agreement,
    reliability_matrix,
    verdicts,
)
from mola.engine.evaluation.versions import (
    ECE_BINS,
    ChangeReport,
    Ref,
    VersionEvaluation,
    answers_compared,
    change_causes,
    change_report,
    changed_positions,
    deciding_refs,
    evaluate_version,
    expected_calibration_error,
    explanation_refs,
    row_key,
    scorecard,
)

__all__ = [
    "AGREED",
    "CONTESTED",
    "DEFAULT_MIN_LABELS",
    "DEFAULT_THRESHOLD",
    "ECE_BINS",
    "OPEN",
    "PRIOR_AGREEMENT",
    "PRIOR_CASES",
    "Alpha",
    "ChangeReport",
    "MemberAgreement",
    "Ref",
    "Verdict",
    "Verdicts",
    "VersionEvaluation",
    "answers_compared",
    "case_verdict",
    "change_causes",
    "change_report",
    "changed_positions",
    "deciding_refs",
    "evaluate_version",
    "expected_calibration_error",
    "explanation_refs",
    "krippendorff_alpha",
    "member_agreement",
    "reliability_matrix",
    "row_key",
    "scorecard",
    "verdicts",
]
