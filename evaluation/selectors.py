"""Reads of the evaluation app: cases as a member may see them, agreement, version reports."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model

from evaluation.models import CaseLabel, CaseStatus, EvaluationCase, VersionReport
from evaluation.services.cases import space_verdicts
from mola.engine import evaluation as engine
from mola.errors import InvalidInput
from teaching.models import Space, TeachingRevision
from teaching.services.access import check_member

STATUSES = ("open", "agreed", "contested", "dismissed")


def cases_list(*, space: Space, user, status: str | None = None):
    """The space's cases, oldest first, optionally of one ``status`` (400 for another)."""
    check_member(space=space, user=user)
    cases = EvaluationCase.objects.filter(space=space).order_by("id")
    if status:
        if status not in STATUSES:
            raise InvalidInput(
                f"status is one of {', '.join(STATUSES)}.", code="invalid_choice", field="status"
            )
        cases = cases.filter(status=status)
    return cases


def case_items(*, cases: list[EvaluationCase], user) -> list[dict[str, Any]]:
    """Cases as ``user`` may see them: the agreed label when agreed; the members' labels
    only on cases ``user`` has labelled (no one is swayed before answering)."""
    ids = [c.pk for c in cases]
    rows = CaseLabel.objects.filter(case_id__in=ids).select_related("user").order_by("id")
    labels: dict[int, list[CaseLabel]] = {}
    for row in rows:
        labels.setdefault(row.case_id, []).append(row)
    items = []
    for case in cases:
        mine = next((r for r in labels.get(case.pk, []) if r.user_id == user.pk), None)
        item: dict[str, Any] = {
            "id": case.pk,
            "features": case.features,
            "status": case.status,
            "answered": mine is not None,
            "my_label": mine.label if mine else None,
            "settled": case.settled,
            "contradiction": case.contradiction_id,
        }
        if case.status == CaseStatus.AGREED:
            item["label"] = case.label
        if mine is not None:
            item["labels"] = [
                {"username": r.user.username, "label": r.label} for r in labels.get(case.pk, [])
            ]
            item["shares"] = case.shares
        items.append(item)
    return items


def agreement(*, space: Space, user) -> dict[str, Any]:
    """Krippendorff's alpha over the space's labelled cases, overall and per label, and each
    member's agreement with the agreed labels: a member sees their own, moderators see all."""
    membership = check_member(space=space, user=user)
    found = space_verdicts(space)
    by_case: dict[int, dict[int, str]] = {}
    for case_id, user_id, label in CaseLabel.objects.filter(case__space=space).values_list(
        "case_id", "user_id", "label"
    ):
        by_case.setdefault(case_id, {})[user_id] = label
    alpha = engine.krippendorff_alpha(list(by_case.values()), list(space.schema.label_names))
    names = dict(
        get_user_model().objects.filter(pk__in=found.agreement).values_list("pk", "username")
    )
    members = [
        {
            "username": names.get(member, "?"),
            "agreement": None if a.share is None else round(a.share, 4),
            "agreed_cases": a.labelled,
            "weight": round(found.weights.get(member, 1.0), 4),
        }
        for member, a in found.agreement.items()
        if membership.moderates or member == user.pk
    ]
    members.sort(key=lambda m: m["username"])
    return {
        "alpha": _round(alpha.overall),
        "per_label": {label: _round(value) for label, value in alpha.per_label.items()},
        "members": members,
        "n_cases": len(by_case),
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def version_report(*, version_id: int) -> VersionReport | None:
    return VersionReport.objects.filter(version_id=version_id).first()


def version_changes(*, version) -> dict[str, Any]:
    """``GET …/model/versions/{v}/changes``: what ``version`` changed against the version
    serving before it (``previous`` null for a space's first version, or one published
    before reports existed)."""
    report = version_report(version_id=version.pk)
    share = None
    if report is not None and report.traffic_total:
        share = round(report.traffic_changed / report.traffic_total, 4)
    return {
        "version": version.version,
        "status": version.status,
        "held_because": version.held_because or None,
        "previous": report.previous if report else None,
        "agreed": {
            "now_right": report.now_right if report else [],
            "now_wrong": report.now_wrong if report else [],
        },
        "traffic_changed_share": share,
        "traffic_changed": report.traffic_changed if report else 0,
        "traffic_total": report.traffic_total if report else 0,
        "causes": report.causes if report else [],
        "authors": report.authors if report else [],
        "scorecard": (version.metrics or {}).get("scorecard"),
    }


def version_teachings(*, space: Space, versions: list) -> dict[int, tuple[str, int]]:
    """Per version number, the teaching whose write made the revision it was trained from
    (the first one that revision touched)."""
    revisions = {v.teaching_revision for v in versions}
    made: dict[int, tuple[str, int]] = {}
    rows = TeachingRevision.objects.filter(space=space, revision__in=revisions).order_by("id")
    for revision, kind, pk in rows.values_list("revision", "kind", "teaching_id"):
        made.setdefault(revision, (kind, pk))
    return {v.version: made[v.teaching_revision] for v in versions if v.teaching_revision in made}


RECENT_REPORTS = 30  # reports searched for a member's latest write


def latest_change_of(*, space: Space, user) -> dict[str, Any] | None:
    """What the newest version made from ``user``'s writes changed: for the teacher's
    "what changed" panel. None when none of the recent versions is theirs."""
    reports = VersionReport.objects.filter(space=space, previous__isnull=False).select_related(
        "version"
    )
    for report in reports.order_by("-version_id")[:RECENT_REPORTS]:
        if user.username in report.authors:
            mine = [c for c in report.causes if c["author"] == user.username]
            return {
                **version_changes(version=report.version),
                "mine": mine,
                "answers": sum(c["answers"] for c in mine) if mine else report.traffic_changed,
            }
    return None
