"""What a new model version does on the agreed cases and on recent client inputs, compared
with the version serving before it: its scorecard (``metrics.scorecard``), its change report
(``VersionReport``), the regression guard, and who is told.

Runs inside the publishing transaction (``teaching.signals.version_publishing``), so the
report commits with the version; the inbox messages and a held version's thread are
written there too. Kept cheap: the new model answers the agreed cases and the sampled
inputs once (``predict_proba``); the previous version's answers on the agreed cases come
from its report, and only rows whose answer changed are explained by both models.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.contrib.auth import get_user_model
from django.core.cache import cache

from community.selectors.teachings import ref_dict, teachings_by_ref
from community.services.notifications import notify
from community.services.threads import thread_open_for_dispute
from evaluation.models import CaseStatus, EvaluationCase, VersionReport
from mola.engine import evaluation as engine
from mola.engine.table import checked_table
from teaching.models import Concept, ModelStatus, ModelVersion, Space, TeachingRevision
from teaching.services.predict import load_model
from teaching.services.traffic import recent_inputs_key
from teaching.signals import version_hold

log = logging.getLogger(__name__)
GUARD_SETTING = "regression_guard"
LISTED = 10  # case ids named in a message

# The model each process published last per space (version pk, model): the next version's
# "previous" is usually it, and unpickling it again would cost more than the whole report.
_last_models: dict[int, tuple[int, Any]] = {}


@dataclass
class _Rows:
    ids: list[Any]
    rows: list[dict[str, Any]]
    truth: list[str]


def _agreed_cases(space: Space) -> _Rows:
    cases = EvaluationCase.objects.filter(space=space, status=CaseStatus.AGREED).values_list(
        "pk", "features", "label"
    )
    found = _Rows([], [], [])
    for pk, features, label in cases:
        found.ids.append(pk)
        found.rows.append(features)
        found.truth.append(label)
    return found


def _answers(model, schema, rows: list[dict[str, Any]]) -> tuple[list[str], np.ndarray, list[int]]:
    """Labels, confidences and the positions of valid rows (a schema change may have made
    a stored row invalid: it is left out)."""
    table, refused = checked_table(schema, rows)
    if not rows or not model.labels_:
        return [], np.zeros(0), []
    keep = [i for i in range(len(rows)) if i not in set(refused)]
    if refused:
        table, _ = checked_table(schema, [rows[i] for i in keep])
    probabilities = model.predict_proba(table)
    labels = [model.labels_[i] for i in probabilities.argmax(axis=1)]
    return labels, probabilities.max(axis=1), keep


def _explain(model, schema, rows: list[dict[str, Any]]) -> list[Any]:
    if not rows:
        return []
    table, _ = checked_table(schema, rows)
    return model.explain(table)


def _previous(version) -> ModelVersion | None:
    return (
        ModelVersion.objects.filter(space_id=version.space_id, status=ModelStatus.READY)
        .exclude(pk=version.pk)
        .only("id", "version", "teaching_revision")
        .order_by("-teaching_revision", "-version")
        .first()
    )


def _model_of(previous: ModelVersion):
    remembered = _last_models.get(previous.space_id)
    if remembered is not None and remembered[0] == previous.pk:
        return remembered[1]
    return load_model(previous)


def _changed_teachings(space: Space, since: int, until: int) -> tuple[set, list[int]]:
    """The teachings written after revision ``since`` up to ``until``, and their writers."""
    rows = TeachingRevision.objects.filter(
        space=space, revision__gt=since, revision__lte=until
    ).values_list("kind", "teaching_id", "author_id")
    refs = {(kind, int(pk)) for kind, pk, _ in rows}
    return refs, sorted({author for _, _, author in rows})


def version_evaluate(*, version, model) -> None:
    """Score ``version`` on the agreed cases, report what it changed, hold it if the guard
    says so, and tell the people concerned. Called inside the publishing transaction."""
    started = time.perf_counter()
    space = Space.objects.get(pk=version.space_id)
    schema = space.schema
    agreed = _agreed_cases(space)
    answers, confidence, kept = _answers(model, schema, agreed.rows)
    truth = [agreed.truth[i] for i in kept]
    ids = [agreed.ids[i] for i in kept]
    rows = [agreed.rows[i] for i in kept]
    version.metrics = {
        **version.metrics,
        "scorecard": engine.scorecard(truth, answers, confidence, schema.label_names),
    }
    previous = _previous(version)
    report = VersionReport(
        version_id=version.pk,
        space=space,
        answers={str(pk): label for pk, label in zip(ids, answers, strict=True)},
    )
    if previous is not None:
        _compare(space, version, model, previous, report, _Rows(ids, rows, truth), answers)
    _guard(space, version, report)
    report.seconds = time.perf_counter() - started
    report.save()
    _tell(space, version, report)
    _last_models[space.pk] = (version.pk, model)


def _compare(space, version, model, previous, report, cases: _Rows, answers) -> None:
    """Fill ``report`` with what changed against ``previous`` (``cases``: the agreed cases
    the new model answered, ``answers``)."""
    schema = space.schema
    ids, truth = cases.ids, cases.truth
    old_model = None
    before = (
        VersionReport.objects.filter(version_id=previous.pk)
        .values_list("answers", flat=True)
        .first()
    ) or {}
    old_answers = [before.get(str(pk)) for pk in ids]
    missing = [i for i, label in enumerate(old_answers) if label is None]
    if missing:  # cases agreed since the previous version: ask it
        old_model = _model_of(previous)
        labels, _, kept = _answers(old_model, schema, [cases.rows[i] for i in missing])
        for position, label in zip(kept, labels, strict=True):
            old_answers[missing[position]] = label
    changed_cases = engine.changed_positions([a or "" for a in old_answers], answers)
    traffic = [r for r in (cache.get(recent_inputs_key(space.pk)) or []) if isinstance(r, dict)]
    new_traffic, _, traffic_kept = _answers(model, schema, traffic)
    traffic = [traffic[i] for i in traffic_kept]
    old_traffic: list[str] = []
    if traffic:
        old_model = _model_of(previous) if old_model is None else old_model
        old_traffic, _, _ = _answers(old_model, schema, traffic)
    changed_traffic = engine.changed_positions(old_traffic, new_traffic) if traffic else []
    if changed_cases or changed_traffic:
        old_model = _model_of(previous) if old_model is None else old_model
    refs, authors = _changed_teachings(space, previous.teaching_revision, version.teaching_revision)
    concept_ids = dict(Concept.objects.filter(space=space).values_list("name", "pk"))
    case_rows = [cases.rows[i] for i in changed_cases]
    traffic_rows = [traffic[i] for i in changed_traffic]
    found = engine.change_report(
        case_ids=[ids[i] for i in changed_cases],
        truth=[truth[i] for i in changed_cases],
        case_old=_explain(old_model, schema, case_rows) if case_rows else [],
        case_new=_explain(model, schema, case_rows) if case_rows else [],
        traffic_old=_explain(old_model, schema, traffic_rows) if traffic_rows else [],
        traffic_new=_explain(model, schema, traffic_rows) if traffic_rows else [],
        traffic_total=len(traffic),
        changed=refs,
        concept_ids=concept_ids,
    )
    report.previous = previous.version
    report.now_right, report.now_wrong = found.now_right, found.now_wrong
    report.traffic_changed, report.traffic_total = found.traffic_changed, found.traffic_total
    users = get_user_model().objects.filter(pk__in=authors).values_list("username", flat=True)
    report.authors = sorted(users)
    report.causes = _causes(space, found)
    report.displaced = found.displaced  # not stored: read by _tell


def _causes(space: Space, found: engine.ChangeReport) -> list[dict[str, Any]]:
    teachings = teachings_by_ref(space=space, refs=list(found.causes))
    causes = []
    for ref, what in sorted(found.causes.items()):
        teaching = teachings.get(ref)
        causes.append(
            {
                "teaching": ref_dict(ref),
                "author": teaching.author.username if teaching else None,
                "cases": sorted(what["cases"]),
                "answers": what["answers"],
            }
        )
    return causes


def _guard(space: Space, version, report: VersionReport) -> None:
    """Hold the version when it turns more agreed cases from right to wrong than the space
    allows (``regression_guard: {"max_broken": n}``; absent: off)."""
    setting = (space.settings or {}).get(GUARD_SETTING)
    limit = setting.get("max_broken") if isinstance(setting, dict) else None
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
        return
    broken = len(report.now_wrong)
    if broken > limit:
        because = (
            f"It turns {broken} agreed case{'s' if broken != 1 else ''} from right to wrong "
            f"(the space allows {limit}): {_listed(report.now_wrong)}."
        )
        version_hold(version, because=because)
        report.held_because = because


def _listed(ids: list[int]) -> str:
    shown = ", ".join(f"#{pk}" for pk in ids[:LISTED])
    return shown + (f" and {len(ids) - LISTED} more" if len(ids) > LISTED else "")


def _tell(space: Space, version, report: VersionReport) -> None:
    """The writers of the version learn what it changed; members whose teachings stopped
    deciding agreed cases because of it learn that; a held version opens a thread."""
    if report.previous is None:
        return
    authors = get_user_model().objects.filter(username__in=report.authors)
    wrong = f"{len(report.now_wrong)} agreed case{'s are' if len(report.now_wrong) != 1 else ' is'} now wrong"
    if report.now_wrong:
        wrong += f": {_listed(report.now_wrong)}"
    for author in authors:
        theirs = [c for c in report.causes if c["author"] == author.username]
        what = (
            ", ".join(f"your {c['teaching']['type']} #{c['teaching']['id']}" for c in theirs)
            or f"version {version.version}"
        )
        answers = sum(c["answers"] for c in theirs) if theirs else report.traffic_changed
        message = (
            f"{what[0].upper()}{what[1:]} changed {answers} of the last {report.traffic_total} "
            f"answers; {len(report.now_right)} agreed cases are now right, {wrong}."
        )
        if report.held_because:
            message += f" Version {version.version} is held: {report.held_because}"
        notify(
            space=space,
            user_ids=[author.pk],
            kind="version",
            message=message,
            data={"version": version.version, "now_wrong": report.now_wrong[:100]},
        )
    _tell_displaced(space, version, report, {a.pk for a in authors})
    if report.held_because:
        _hold_thread(space, version, report, [a.pk for a in authors])


def _tell_displaced(space: Space, version, report: VersionReport, writers: set[int]) -> None:
    displaced = getattr(report, "displaced", {}) or {}
    teachings = teachings_by_ref(space=space, refs=list(displaced))
    by_author: dict[int, list[str]] = {}
    for ref, cases in sorted(displaced.items()):
        teaching = teachings.get(ref)
        if teaching is None or teaching.author_id in writers:
            continue
        by_author.setdefault(teaching.author_id, []).append(
            f"your {ref[0]} #{ref[1]} no longer decides agreed case{'s' if len(cases) > 1 else ''} "
            f"{_listed(sorted(cases))}"
        )
    causes = ", ".join(
        f"{c['teaching']['type']} #{c['teaching']['id']} by {c['author']}" for c in report.causes
    )
    for author_id, lines in by_author.items():
        notify(
            space=space,
            user_ids=[author_id],
            kind="version",
            message=f"In version {version.version}, {'; '.join(lines)}, because of {causes}.",
            data={"version": version.version},
        )


def _hold_thread(space: Space, version, report: VersionReport, writers: list[int]) -> None:
    thread = thread_open_for_dispute(
        space=space,
        thread_id=None,
        title=f"Version {version.version} is held: it breaks {len(report.now_wrong)} agreed cases",
        teachings=[c["teaching"] for c in report.causes],
    )
    notify(
        space=space,
        user_ids=writers,
        kind="thread",
        message=f"Version {version.version} is held; amend your teaching or ask a moderator "
        "to publish it.",
        thread=thread,
        data={"version": version.version, "cases": report.now_wrong[:100]},
    )
