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
from typing import Any

from django.contrib.auth import get_user_model
from django.core.cache import cache

from community.models import NotificationKind
from community.selectors.teachings import ref_dict, teachings_by_ref
from community.services.notifications import notify
from community.services.threads import thread_open_for_dispute
from evaluation.models import CaseStatus, EvaluationCase, VersionReport
from mola.engine import evaluation as engine
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


def _agreed_cases(space: Space) -> tuple[list[int], list[dict[str, Any]], list[str]]:
    rows = EvaluationCase.objects.filter(space=space, status=CaseStatus.AGREED).values_list(
        "pk", "features", "label"
    )
    ids, features, truth = [], [], []
    for pk, values, label in rows:
        ids.append(pk)
        features.append(values)
        truth.append(label)
    return ids, features, truth


def _previous(version) -> ModelVersion | None:
    """The version serving while ``version`` is published."""
    return (
        ModelVersion.objects.filter(space_id=version.space_id, status=ModelStatus.READY)
        .exclude(pk=version.pk)
        .only("id", "space_id", "version", "teaching_revision")
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
    ids, rows, truth = _agreed_cases(space)
    previous = _previous(version)
    changed, writers = set(), []
    if previous is not None:
        changed, writers = _changed_teachings(
            space, previous.teaching_revision, version.teaching_revision
        )
    stored, stored_inputs = (
        VersionReport.objects.filter(version_id=previous.pk)
        .values_list("answers", "input_answers")
        .first()
        if previous is not None
        else None
    ) or ({}, {})
    traffic = cache.get(recent_inputs_key(space.pk)) or []
    found = engine.evaluate_version(
        model=model,
        schema=space.schema,
        case_ids=ids,
        case_rows=rows,
        truth=truth,
        previous=(lambda: _model_of(previous)) if previous is not None else None,
        previous_answers={int(pk): label for pk, label in stored.items()},
        traffic=[r for r in traffic if isinstance(r, dict)],
        previous_input_answers=stored_inputs,
        changed=changed,
        concept_ids=dict(Concept.objects.filter(space=space).values_list("name", "pk")),
    )
    version.metrics = {**version.metrics, "scorecard": found.scorecard}
    report = VersionReport(
        version_id=version.pk,
        space=space,
        answers={str(pk): label for pk, label in found.answers.items()},
        input_answers=found.input_answers,
    )
    displaced: dict = {}
    if found.report is not None:
        change = found.report
        report.previous = previous.version
        report.now_right, report.now_wrong = change.now_right, change.now_wrong
        report.traffic_changed, report.traffic_total = change.traffic_changed, change.traffic_total
        names = get_user_model().objects.filter(pk__in=writers).values_list("username", flat=True)
        report.authors = sorted(names)
        report.causes = _causes(space, change)
        displaced = change.displaced
    _guard(space, version, report)
    report.seconds = time.perf_counter() - started
    report.save()
    _tell(space, version, report, displaced)
    _last_models[space.pk] = (version.pk, model)


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


def _tell(space: Space, version, report: VersionReport, displaced: dict) -> None:
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
        answered = (
            f"changed {answers} of the last {report.traffic_total} answers"
            if report.traffic_total
            else "changed no sampled answer (no client has asked yet)"
        )
        message = (
            f"{what[0].upper()}{what[1:]} {answered}; "
            f"{len(report.now_right)} agreed cases are now right, {wrong}."
        )
        if report.held_because:
            message += f" Version {version.version} is held: {report.held_because}"
        notify(
            space=space,
            user_ids=[author.pk],
            kind=NotificationKind.VERSION,
            message=message,
            data={"version": version.version, "now_wrong": report.now_wrong[:100]},
        )
    _tell_displaced(space, version, report, displaced, {a.pk for a in authors})
    if report.held_because:
        _hold_thread(space, version, report, [a.pk for a in authors])


def _tell_displaced(
    space: Space, version, report: VersionReport, displaced: dict, writers: set[int]
) -> None:
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
            kind=NotificationKind.VERSION,
            message=f"In version {version.version}, {'; '.join(lines)}, because of {causes}.",
            data={"version": version.version},
        )


def _hold_thread(space: Space, version, report: VersionReport, writers: list[int]) -> None:
    thread = thread_open_for_dispute(
        space=space,
        thread_id=None,
        title=f"Version {version.version} is held: it turns agreed cases "
        f"{_listed(report.now_wrong)} from right to wrong",
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
