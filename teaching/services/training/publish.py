"""Publishing a model version: numbering it, and storing it as ready — or refusing to.

Owns ``version_start`` (the next version, "training" until published), ``publish`` (one
transaction: refused over a newer revision or when the claim was taken over; otherwise the
version, its timings and the work done or owed), and ``refinable`` (a quick version a full
fit would change).
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F, Max
from django.db.models.functions import Greatest
from django.utils import timezone

from teaching.models import ModelStatus, ModelVersion, TrainingState, WorkKind
from teaching.services.outbox import work_done, work_record
from teaching.services.training.stages import Stages
from teaching.signals import version_publishing_announce


def refinable(metrics: dict) -> bool:
    """A version whose trees a full fit would change: not fitted in it, and enough examples
    for trees. (Versions stored before reuse existed have no "trees": they were full fits.)"""
    from mola.engine.learning.boosting import MIN_TREE_EXAMPLES

    trees = metrics.get("trees") or {"fresh": True}
    return not trees["fresh"] and (metrics.get("n_examples") or 0) >= MIN_TREE_EXAMPLES


def version_start(space_id: int, revision: int, *, requested_at=None) -> ModelVersion:
    """The space's next version, "training" until published (the claim holder numbers it)."""
    latest = ModelVersion.objects.filter(space_id=space_id).aggregate(Max("version"))
    return ModelVersion.objects.create(
        space_id=space_id,
        version=(latest["version__max"] or 0) + 1,
        teaching_revision=revision,
        status=ModelStatus.TRAINING,
        requested_at=requested_at,
    )


def publish(
    version,
    model,
    artifact,
    snapshot,
    stages: Stages,
    *,
    claim: datetime | None = None,
    waited: dict[str, float] | None = None,
) -> ModelVersion | None:
    """Store the version as ready (``artifact``: what ``artefacts.model_stored`` gives)
    and the work done, in one transaction; refused when a newer revision is published, or
    when ``claim`` was taken over meanwhile (a process that hung past its lease must not
    publish beside the one that took its place).

    ``stages``: the training's stopwatch; "evaluate" (the ``version_publishing``
    listeners) and "publish" (the rest of the transaction) are added to it. ``waited``:
    seconds spent before it started, stored beside the stages (a refine's delay)."""
    space_id = version.space_id
    contributors = sorted(
        {r.author for r in snapshot.rules}
        | {c.author for c in snapshot.concepts}
        | {e.author for e in snapshot.examples if not e.evaluation}
    )
    with transaction.atomic():
        newer = ModelVersion.objects.filter(
            space_id=space_id,
            status=ModelStatus.READY,
            teaching_revision__gt=version.teaching_revision,
        ).exists()
        lost = (
            claim is not None
            and not TrainingState.objects.select_for_update()
            .filter(space_id=space_id, running_since=claim)
            .exists()
        )
        if newer or lost:  # never publish an older revision over a newer one
            version.status = ModelStatus.FAILED
            version.error = (
                "superseded by a version of a newer revision"
                if newer
                else "its claim was taken over (its worker stopped answering)"
            )
            version.save(update_fields=["status", "error"])
            return None
        version.artifact, version.artifact_parts = artifact
        version.metrics = model.metrics_
        version.contributors = contributors
        version.teachings = {
            "rule": [r.id for r in snapshot.rules],
            "concept": [c.id for c in snapshot.concepts],
            "example": [e.id for e in snapshot.examples if not e.evaluation],
        }
        version.status = ModelStatus.READY
        stages.lap("publish")
        version_publishing_announce(version=version, model=model)  # may hold it back
        stages.lap("evaluate")
        waited = dict(waited or {})
        if version.requested_at:
            waited["queue"] = max(
                0.0, (started_at(stages.started) - version.requested_at).total_seconds()
            )
        version.save()
        _stamp(version, stages, waited)
        TrainingState.objects.filter(space_id=space_id).update(
            trained_revision=Greatest(F("trained_revision"), version.teaching_revision),
            last_error="",
            trainings=F("trainings") + 1,
        )
        revision = version.teaching_revision
        work_done(space_id=space_id, kind=WorkKind.RETRAIN, revision=revision)
        if refinable(model.metrics_):  # a quick version: its refine is owed from now on
            work_record(space_id=space_id, kinds=(WorkKind.REFINE,), revision=revision)
        else:
            work_done(space_id=space_id, kind=WorkKind.REFINE, revision=revision)
    return version


def _stamp(version, stages: Stages, waited: dict[str, float]) -> None:
    """Stamp the saved version as trained now: after its save with the artefact and its
    parts (18.8 ms at M when a 2 MB part was new), so that its timings count them."""
    version.trained_at = timezone.now()
    version.training_seconds = stages.elapsed()
    stages.lap("publish")
    version.timings = stages.timings(**waited)
    ModelVersion.objects.filter(pk=version.pk).update(
        trained_at=version.trained_at,
        training_seconds=version.training_seconds,
        timings=version.timings,
    )


def started_at(perf_start: float):
    """The wall-clock time at which a ``perf_counter`` reading was taken."""
    return timezone.now() - timedelta(seconds=time.perf_counter() - perf_start)
