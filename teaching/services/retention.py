"""Bounded retention of model versions: a space keeps its newest ``MODEL_VERSIONS_KEPT``.

Every write trains a quick version and, a moment later, a refined one, each with its pickled
model (``ModelArtifact``; its size at S and M: README "Scaling"); nothing removed them, so a
busy space's storage grew with every write, for versions nobody serves. The workers' sweep thread
(``mola.sweeper``) runs ``versions_prune`` at most every ``PRUNE_SECONDS`` per process: each
space's versions older than its newest ``MODEL_VERSIONS_KEPT`` go, with their artifacts and
scorecards (cascade), then the model parts no remaining artefact names (``parts_prune``: a
refined version's forest stays while a quick version that reuses it is kept). Never
pruned: the serving version (the newest ready one, however old) and a version still
training. Version numbers are not reused (the next is the newest + 1).
Pruned versions answer 404 to a client that asks for them by number.
"""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Exists, OuterRef

from teaching.models import ArtifactPart, ModelPart, ModelStatus, ModelVersion, TrainingState

log = logging.getLogger(__name__)

PRUNE_SECONDS = 60.0
_last = {"at": -PRUNE_SECONDS}


def versions_prune(*, keep: int | None = None) -> int:
    """Delete every space's versions past its newest ``keep``; returns how many went."""
    keep = settings.MODEL_VERSIONS_KEPT if keep is None else keep
    if keep <= 0:
        return 0  # retention off
    crowded = list(
        ModelVersion.objects.values("space_id")
        .annotate(versions=Count("id"))
        .filter(versions__gt=keep)
        .values_list("space_id", flat=True)
    )
    deleted = 0
    for space_id in crowded:
        versions = ModelVersion.objects.filter(space_id=space_id)
        oldest_kept = versions.order_by("-version").values_list("version", flat=True)[keep - 1]
        serving = (
            versions.filter(status=ModelStatus.READY)
            .order_by("-teaching_revision", "-version")
            .values_list("pk", flat=True)
            .first()
        )
        old = versions.filter(version__lt=oldest_kept).exclude(status=ModelStatus.TRAINING)
        if serving is not None:
            old = old.exclude(pk=serving)
        _, by_model = old.delete()
        deleted += by_model.get(ModelVersion._meta.label, 0)
        parts_prune(space_id)
    if deleted:
        log.info("pruned %s model versions (keeping %s per space)", deleted, keep)
    return deleted


def parts_prune(space_id: int) -> int:
    """Delete the space's model parts no artefact links to any more; returns how many.
    Under the lock of the space's training row, which a version's save takes before it
    links to a part it found (ModelVersion._link_parts): no part goes under a new link."""
    with transaction.atomic():
        TrainingState.lock(space_id)
        linked = ArtifactPart.objects.filter(part=OuterRef("pk"))
        unlinked = ModelPart.objects.filter(space_id=space_id).exclude(Exists(linked))
        # only("pk"): the delete looks at each part's links first, which loads the parts;
        # not their megabytes.
        _, by_model = unlinked.only("pk").delete()
    return by_model.get(ModelPart._meta.label, 0)


def sweep() -> int:
    """The sweep thread's turn: prune at most every ``PRUNE_SECONDS`` in this process."""
    now = time.monotonic()
    if now - _last["at"] < PRUNE_SECONDS:
        return 0
    _last["at"] = now
    return versions_prune()


def backlog() -> dict:
    """Nothing pending: retention owes no work anyone waits for."""
    return {"pending": 0, "overdue": 0, "oldest_overdue_seconds": 0}
