"""One quick retrain: the space's newest revision fitted with the trees of its last full fit.

Owns ``train_space`` (snapshot, fit with ``trees="reuse"``, publish, then ask for a refine),
recording a failed training, and taking newer trees from a stored version's artefact when
another worker process fitted them (``TREE_SOURCES``).
"""

from __future__ import annotations

import logging
import traceback
from datetime import datetime

from django.db import transaction
from django.db.models import F
from django.db.models.functions import Greatest

from teaching.models import ModelArtifact, ModelStatus, ModelVersion, TrainingState, WorkKind
from teaching.services.artefacts import model_read, model_stored
from teaching.services.outbox import work_done
from teaching.services.snapshots import fit_cache, snapshot_read
from teaching.services.training.publish import publish, refinable, version_start
from teaching.services.training.refine import refine_schedule
from teaching.services.training.stages import Stages

log = logging.getLogger(__name__)

# Stored versions searched, newest first, for newer trees than this process has.
TREE_SOURCES = 10


def train_space(*, space_id: int, claim: datetime | None = None) -> ModelVersion | None:
    """Train the space's newest revision and publish it unless a newer one is published:
    quickly, with the trees of the space's last full fit, then ask for a refine of it.
    ``claim``: the space's claim this training holds; it publishes only while it does."""
    from mola.engine.learning import fit

    stages = Stages()
    requested_at = (
        TrainingState.objects.filter(space_id=space_id)
        .values_list("requested_at", flat=True)
        .first()
    )
    snapshot, cache_key = snapshot_read(space_id=space_id)
    revision = snapshot.revision
    TrainingState.objects.filter(space_id=space_id).update(running_revision=revision)
    version = version_start(space_id, revision, requested_at=requested_at)
    stages.lap("snapshot")
    try:
        with fit_cache(cache_key) as cache:
            _take_stored_trees(space_id, snapshot, cache)
            model = fit(snapshot, random_state=0, cache=cache, trees="reuse")
        stages.lap("fit")
        artifact = model_stored(model)
        stages.lap("serialise")
    except Exception as exc:
        log.exception("training %s at revision %s failed", space_id, revision)
        version.status = ModelStatus.FAILED
        version.error = "".join(traceback.format_exception_only(exc)).strip()[:2000]
        version.save(update_fields=["status", "error"])
        with transaction.atomic():
            TrainingState.objects.filter(space_id=space_id).update(
                last_error=version.error,
                trained_revision=Greatest(F("trained_revision"), revision),
                trainings=F("trainings") + 1,
            )
            # A failed training is done: the same teachings would fail again.
            work_done(space_id=space_id, kind=WorkKind.RETRAIN, revision=revision)
        return None
    published = publish(version, model, artifact, snapshot, stages, claim=claim)
    if published is not None and refinable(model.metrics_):
        refine_schedule(space_id=space_id)
    return published


def _take_stored_trees(space_id: int, snapshot, cache) -> None:
    """Give this process's ``cache`` the trees of the newest stored full fit, if they are
    newer than its own (another worker process fitted them)."""
    from mola.engine.learning.boosting import MIN_TREE_EXAMPLES

    have = cache.for_schema(snapshot.schema).trees
    if len(snapshot.examples) < MIN_TREE_EXAMPLES:
        return
    fitted = ModelVersion.objects.filter(
        space_id=space_id, status=ModelStatus.READY, metrics__trees__fresh=True
    )
    if have is not None:
        # Only newer trees matter, and those are recent: look among the last few versions
        # of a newer revision than the trees (each one's metrics are parsed: a few hundred
        # kB at L), and none at all when there is none, as after most writes.
        recent = ModelVersion.objects.filter(space_id=space_id, status=ModelStatus.READY)
        newer = list(
            recent.order_by("-version").values_list("pk", "teaching_revision")[:TREE_SOURCES]
        )
        newer = [pk for pk, revision in newer if revision > have.revision]
        if not newer:
            return
        fitted = fitted.filter(pk__in=newer)
    newest = fitted.order_by("-version").values_list("pk", "teaching_revision").first()
    if newest is None or (have is not None and have.revision >= newest[1]):
        return
    if ModelArtifact.objects.filter(version_id=newest[0]).exists():
        cache.keep_trees(model_read(newest[0]).trees_)
