"""The refine: a full fit (trees included) of the revision a quick retrain published.

Owns scheduling it ``REFINE_DELAY`` after the quick version (at most one pending per space,
remembered in the cache), running it without the space's claim, giving way to any newer
revision (before each forest and between its parts, and under the claim before
publishing), and never publishing it twice.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.cache import cache
from django.db import OperationalError

from mola import relay
from mola.db import checkpoint
from mola.leases import lease
from mola.pools import yielding
from teaching.models import ModelStatus, ModelVersion, Outbox, TrainingState, WorkKind
from teaching.services.artefacts import model_stored
from teaching.services.outbox import work_done, work_started
from teaching.services.snapshots import fit_cache, snapshot_read
from teaching.services.training.claims import claim_release, claim_take
from teaching.services.training.publish import publish, refinable, started_at, version_start
from teaching.services.training.stages import Stages

log = logging.getLogger(__name__)

# Seconds from a quick version to its refine. None: a teacher's write during a refine makes
# it give way within a part of its forest (forest.TREES_PER_PART), so waiting for a burst's
# next write bought little; and on the one-machine broker a countdown is served by the
# worker's timer thread, which sleeps up to a second between looks (a 0.5 s countdown
# waited 0.5-1.5 s; 1.5 s until the forest shrank at M).
REFINE_DELAY = 0.0
REFINE_PENDING = 60  # seconds a pending refine keeps others from being scheduled (if lost)


def _send_once(task, space_id: int, *, key: str, pending: float, countdown: float, what: str):
    """Send ``task(space_id)`` in ``countdown`` seconds unless one was sent under ``key`` in
    the last ``pending`` seconds (the cache remembers it). A broken cache sends anyway and
    a broken broker leaves it to the outbox's sweep: neither may stop training."""
    try:
        first = cache.add(key, True, timeout=pending)
    except Exception:
        log.warning("cache unavailable; scheduling a %s anyway", what, exc_info=True)
        first = True
    if first:
        relay.send(task, (space_id,), countdown=countdown)


def _refine_key(space_id: int) -> str:
    return f"teaching:refine-pending:{space_id}"


def refine_schedule(*, space_id: int) -> None:
    """Ask for the space's newest published revision to be refined (a full fit) in
    ``REFINE_DELAY`` seconds, unless a refine of the space is already pending."""
    from teaching.tasks import refine_space

    # A duplicate refine does nothing; if the broker is down, the quick version serves
    # until the next write.
    _send_once(
        refine_space,
        space_id,
        key=_refine_key(space_id),
        pending=REFINE_PENDING,
        countdown=REFINE_DELAY,
        what="refine",
    )


def refine_run(*, space_id: int) -> ModelVersion | None:
    """Fit the space's trained revision afresh (trees included) and publish it as a newer
    version of the same revision, unless a newer revision is wanted or published by then.

    Computes without the space's claim (a quick retrain never waits for it) and takes the
    claim only to publish. Returns the version, or None when it gave up or had nothing to
    do (the quick version is then refined by a later refine, or superseded).
    """
    try:
        cache.delete(_refine_key(space_id))  # from now on a newer quick version asks again
    except Exception:
        log.warning("cache unavailable; a refine may be asked for twice", exc_info=True)
    try:
        trained = (
            TrainingState.objects.filter(space_id=space_id)
            .values_list("trained_revision", flat=True)
            .first()
        )
        work_started(space_id=space_id, kind=WorkKind.REFINE)
        with lease(Outbox.objects.filter(space_id=space_id, kind=WorkKind.REFINE)):
            refined = _refine(space_id)
        # Refined, refined already, superseded or given way to a newer revision (whose quick
        # version records a refine of its own): nothing is left to refine up to here.
        if trained is not None:
            work_done(space_id=space_id, kind=WorkKind.REFINE, revision=trained)
        return refined
    except OperationalError:  # the outbox keeps the refine; the sweep sends it again
        log.warning("refine of space %s interrupted by the database", space_id, exc_info=True)
        return None


def _refine(space_id: int) -> ModelVersion | None:
    from mola.engine.learning import fit
    from mola.engine.learning.boosting import FitCancelled

    stages = Stages()
    state = TrainingState.objects.filter(space_id=space_id).first()
    if state is None or state.wanted_revision > state.trained_revision:
        return None  # a quick retrain is due; it asks for its own refine
    revision = state.trained_revision
    serving = (
        ModelVersion.objects.filter(space_id=space_id, status=ModelStatus.READY)
        .order_by("-teaching_revision", "-version")
        .values_list("teaching_revision", "metrics", "trained_at")
        .first()
    )
    if serving is None or serving[0] != revision or not refinable(serving[1]):
        return None  # refined already (a duplicate refine), or nothing to refine
    # From the quick version's publish to this task: REFINE_DELAY, the broker, a busy pool.
    waited = {"wait": max(0.0, (started_at(stages.started) - serving[2]).total_seconds())}
    stages.lap("check")
    snapshot, cache_key = snapshot_read(space_id=space_id)
    if snapshot.revision != revision:
        return None  # a write since: its quick version comes next
    stages.lap("snapshot")
    try:
        with fit_cache(cache_key) as fitted:
            # At a lower priority: a quick retrain of the next write, in the pool's other
            # process, or a web process's predictions go first on the cores they share.
            model = yielding(
                settings.REFINE_NICE,
                lambda in_caller: fit(
                    snapshot,
                    random_state=0,
                    cache=fitted,
                    trees="fit",
                    cancelled=lambda: in_caller(lambda: _newer_wanted(space_id, revision)),
                    threads=settings.REFINE_THREADS,
                ),
            )
    except FitCancelled:
        log.info("refine of space %s at %s gave way to a newer revision", space_id, revision)
        return None
    stages.lap("fit")
    artifact = model_stored(model)
    stages.lap("serialise")
    mine = claim_take(space_id)
    if mine is None:
        return None  # a retrain of a newer revision holds the space
    try:
        if _newer_wanted(space_id, revision) or _refined(space_id, revision):
            return None
        version = version_start(space_id, revision)
        stages.lap("claim")
        return publish(version, model, artifact, snapshot, stages, claim=mine, waited=waited)
    finally:
        claim_release(space_id, mine)
        state = TrainingState.objects.filter(space_id=space_id).first()
        if state is not None and state.wanted_revision > state.trained_revision:
            # A retrain that found the space claimed while we published left its training
            # to the claim holder, as it leaves it to any.
            from teaching.tasks import retrain_space

            relay.send(retrain_space, (space_id,))
        checkpoint()  # after the announce: mola.db says why


def _newer_wanted(space_id: int, revision: int) -> bool:
    """Is a revision newer than ``revision`` wanted (trained or not)?"""
    wanted = (
        TrainingState.objects.filter(space_id=space_id)
        .values_list("wanted_revision", flat=True)
        .first()
    )
    return wanted is not None and wanted > revision


def _refined(space_id: int, revision: int) -> bool:
    """Is a version of ``revision`` with freshly fitted trees published (by a duplicate
    refine: one whose pending mark the cache lost)?"""
    return ModelVersion.objects.filter(
        space_id=space_id,
        teaching_revision=revision,
        status=ModelStatus.READY,
        metrics__trees__fresh=True,
    ).exists()
