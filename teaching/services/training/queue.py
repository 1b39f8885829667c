"""Retraining a space's model in the worker, and publishing model versions.

The queue of one space is its ``TrainingState`` row, claimed with conditional UPDATEs (as
healthchecks claims its jobs), so any number of worker processes can run this safely:

- ``retrain_request`` (in the write's transaction) raises ``wanted_revision`` and records
  the work in the outbox; ``retrain_schedule`` (after commit) hands the task to the relay;
- ``retrain_run`` (the task) claims the space if nobody trains it, trains the space's newest
  revision, publishes, releases, and goes again if a newer revision was asked for meanwhile.
  A burst of writes therefore collapses into at most two trainings, the last one of the
  newest revision; and a version is published only if no version of a newer revision is.

A space never stays "training" for good:

- the claim is the time it was taken (``running_since``), and only that claim is released,
  so a worker that wakes up late never releases someone else's;
- when the database fails under a training (SQLite's "database is locked" while another
  process holds the write lock, a lost connection), ``retrain_run`` releases its claim — or,
  if even that fails, hands it to the task's retry in ``RetrainInterrupted.claim`` — and the
  task retries with exponential backoff (``RETRAIN_RETRIES`` times);
- the claim holder keeps a heartbeat on it (``mola.leases``); a claim whose heartbeat is
  older than ``LEASE_SECONDS`` belongs to a worker that died (killed -9, out of memory),
  and anyone may take it over. The outbox keeps the work until a version of its revision is
  published, and the workers' sweep sends it again when it is overdue, so a space whose
  worker died, or whose retries ran out, is trained without waiting for another write
  (``teaching.services.outbox``).

Quick, then refined. The boosted trees are most of a fit (M: 2 of 2.2 s CPU), so a retrain
reuses the trees of the space's last full fit (``fit(…, trees="reuse")``: new examples act at
once through the neighbours, a counterexample through its veto) and publishes in a fraction
of that. It then asks for a *refine* (``refine_schedule``): a moment later (``REFINE_DELAY``,
so a teacher still typing gets quick retrains, not refines thrown away), a full fit of the
same revision is published as a newer version of it. At most one refine is pending per
space. A refine computes without the claim — a quick retrain of a newer revision never
waits for it — and gives up as soon as a newer revision is wanted (before each tree fit,
and under the claim before publishing): that revision's quick version and its own refine
supersede it. Each worker process keeps its own trees (``FitCache``); one without them, or
with older ones than a stored version's, takes them from that version's artefact.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import traceback
from datetime import datetime, timedelta

from celery.utils.time import get_exponential_backoff_interval
from django.core.cache import cache
from django.db import OperationalError, transaction
from django.db.models import F, Max, Q
from django.db.models.functions import Greatest
from django.utils import timezone

from mola import relay
from mola.leases import lease, lease_expired_before
from teaching.models import (
    ModelArtifact,
    ModelStatus,
    ModelVersion,
    Outbox,
    Space,
    TrainingState,
    WorkKind,
)
from teaching.services.outbox import work_done, work_record, work_started
from teaching.services.snapshots import fit_cache, snapshot_read, space_snapshot
from teaching.signals import version_publishing_announce

__all__ = [
    "refine_run",
    "refine_schedule",
    "retrain_request",
    "retrain_run",
    "retrain_schedule",
    "space_snapshot",
    "train_space",
]

log = logging.getLogger(__name__)

RETRAIN_TIME_LIMIT = 300  # seconds: the retrain task's hard limit (Celery kills it past this)
RETRAIN_SOFT_TIME_LIMIT = 240
RETRAIN_RETRIES = 8  # retries of a task the database failed under: ~1, 2, 4 … 60 s apart
RETRY_BACKOFF_MAX = 60
MAX_ROUNDS = 5  # trainings one task does back to back before leaving the rest to a new task
REFINE_DELAY = 1.5  # seconds from a quick version to its refine (writes meanwhile cancel it)
REFINE_PENDING = 60  # seconds a pending refine keeps others from being scheduled (if lost)
# Stored versions searched, newest first, for newer trees than this process has.
TREE_SOURCES = 10


class RetrainInterrupted(Exception):
    """The database failed under a retrain; the task retries. ``claim`` is the claim the
    task still holds (it could not release it), for the retry to take back, or None."""

    def __init__(self, claim: str | None) -> None:
        super().__init__(f"retrain interrupted by the database (claim kept: {claim})")
        self.claim = claim


def retrain_request(*, space_id: int, revision: int) -> None:
    """Inside the write's transaction: the space's model must be trained from ``revision``
    (or newer). Recorded with the write, so a committed write is never left untrained."""
    retrain_want(space_id=space_id, revision=revision)
    work_record(space_id=space_id, kinds=(WorkKind.RETRAIN,), revision=revision)


def retrain_schedule(*, space_id: int, revision: int) -> None:
    """After the write committed: send the retrain task, without waiting for the broker
    (when it is down, the outbox keeps the work and the sweep sends it later)."""
    from teaching.tasks import retrain_space

    relay.send(retrain_space, (space_id,), {"revision": revision})


def retrain_want(*, space_id: int, revision: int) -> None:
    """Record that the space's model should be trained from ``revision`` (or newer); nothing
    when the space is gone (a task can outlive its space)."""
    if not TrainingState.objects.filter(space_id=space_id).exists():
        if not Space.objects.filter(pk=space_id).exists():
            return
        TrainingState.objects.get_or_create(space_id=space_id)
    TrainingState.objects.filter(space_id=space_id).update(
        wanted_revision=Greatest(F("wanted_revision"), revision), requested_at=timezone.now()
    )


def retrain_retry_delay(retries: int) -> int:
    """Seconds before retry number ``retries + 1`` of an interrupted retrain (with jitter,
    so the workers a lock stopped at once do not all come back at once)."""
    return get_exponential_backoff_interval(
        factor=1, retries=retries, maximum=RETRY_BACKOFF_MAX, full_jitter=True
    )


def retrain_gave_up(*, space_id: int) -> None:
    """The task's retries ran out: the outbox keeps the work, the sweep sends it again."""
    log.warning("retrain of space %s gave up; the sweep will send it again", space_id)


def _claim(space_id: int, kept: datetime | None = None) -> datetime | None:
    """Take the space's training for this process: returns the claim (its timestamp), or
    None if another live worker has it. ``kept``: a claim of ours an interrupted attempt
    could not release, which we take back. The caller keeps a ``lease`` on it."""
    now = timezone.now()
    dead = lease_expired_before()
    free = (
        Q(running_since__isnull=True)
        | Q(heartbeat_at__lt=dead)
        | Q(heartbeat_at__isnull=True, running_since__lt=dead)
    )
    if kept is not None:
        free |= Q(running_since=kept)
    claimed = TrainingState.objects.filter(free, space_id=space_id).update(
        running_since=now, heartbeat_at=now, claimed_by=f"{socket.gethostname()}:{os.getpid()}"
    )
    if claimed != 1:
        return None
    # Only the claim holder creates versions: any still "training" were left by a worker
    # that died or was interrupted, and will never finish.
    ModelVersion.objects.filter(space_id=space_id, status=ModelStatus.TRAINING).update(
        status=ModelStatus.FAILED, error="interrupted before it was published"
    )
    return now


def _claim_lease(space_id: int, claim: datetime):
    """Keep the claim's heartbeat while it is held (see ``mola.leases``)."""
    return lease(TrainingState.objects.filter(space_id=space_id, running_since=claim))


def _release(space_id: int, claim: datetime) -> None:
    TrainingState.objects.filter(space_id=space_id, running_since=claim).update(
        running_since=None, running_revision=None, heartbeat_at=None, claimed_by=""
    )


def _release_or_keep(space_id: int, claim: datetime) -> str | None:
    """Release ``claim`` after a failure; if the database refuses that too, the claim as
    text for the retry to take back."""
    try:
        _release(space_id, claim)
    except OperationalError:
        return claim.isoformat()
    return None


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


def retrain_run(*, space_id: int, claim: str | None = None, revision: int | None = None) -> int:
    """Train the space while newer revisions are wanted. Returns how many trainings ran.

    ``claim``: a claim an interrupted attempt of this task kept (``RetrainInterrupted``).
    ``revision``: the revision the write that sent the task asked for (recorded here too).
    Raises ``RetrainInterrupted`` when the database fails under it (the task retries).
    """
    kept = datetime.fromisoformat(claim) if claim else None
    rounds = 0
    while rounds < MAX_ROUNDS:
        try:
            if revision is not None and rounds == 0:
                retrain_want(space_id=space_id, revision=revision)
            state = TrainingState.objects.filter(space_id=space_id).first()
            if state is None or state.wanted_revision <= state.trained_revision:
                if kept is not None:
                    _release(space_id, kept)
                if state is not None:  # a duplicate or swept task: clear what it was for
                    work_done(
                        space_id=space_id, kind=WorkKind.RETRAIN, revision=state.trained_revision
                    )
                return rounds
            mine = _claim(space_id, kept)
            kept = None
            if mine is None:
                # The worker that holds it will see the newer wanted revision; should it
                # have died, its heartbeat stops and the sweep sends the work again.
                return rounds
        except OperationalError as error:
            raise RetrainInterrupted(kept.isoformat() if kept else None) from error
        try:
            # Re-read after claiming: a worker that just released may have trained it.
            state.refresh_from_db()
            if state.wanted_revision > state.trained_revision:
                with _claim_lease(space_id, mine):
                    train_space(space_id=space_id, claim=mine)
                rounds += 1
        except OperationalError as error:
            raise RetrainInterrupted(_release_or_keep(space_id, mine)) from error
        except BaseException:
            _release_or_keep(space_id, mine)  # a bug or a time limit: never keep the space
            raise
        try:
            _release(space_id, mine)
        except OperationalError as error:
            raise RetrainInterrupted(mine.isoformat()) from error
    from teaching.tasks import retrain_space

    relay.send(retrain_space, (space_id,))  # still behind after MAX_ROUNDS: another task
    return rounds


def train_space(*, space_id: int, claim: datetime | None = None) -> ModelVersion | None:
    """Train the space's newest revision and publish it unless a newer one is published:
    quickly, with the trees of the space's last full fit, then ask for a refine of it.
    ``claim``: the space's claim this training holds; it publishes only while it does."""
    from mola.engine.learning import fit

    started = time.perf_counter()
    requested_at = (
        TrainingState.objects.filter(space_id=space_id)
        .values_list("requested_at", flat=True)
        .first()
    )
    snapshot, cache_key = snapshot_read(space_id=space_id)
    revision = snapshot.revision
    TrainingState.objects.filter(space_id=space_id).update(running_revision=revision)
    version = _version_start(space_id, revision, requested_at=requested_at)
    snapshot_seconds = time.perf_counter() - started
    try:
        with fit_cache(cache_key) as cache:
            _take_stored_trees(space_id, snapshot, cache)
            model = fit(snapshot, random_state=0, cache=cache, trees="reuse")
        artifact = model.to_bytes()
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
    fit_seconds = time.perf_counter() - started - snapshot_seconds
    published = _publish(
        version,
        model,
        artifact,
        snapshot,
        started,
        {"snapshot": snapshot_seconds, "fit": fit_seconds},
        claim=claim,
    )
    if published is not None and _refinable(model.metrics_):
        refine_schedule(space_id=space_id)
    return published


def _refinable(metrics: dict) -> bool:
    """A version whose trees a full fit would change: not fitted in it, and enough examples
    for trees. (Versions stored before reuse existed have no "trees": they were full fits.)"""
    from mola.engine.learning.boosting import MIN_TREE_EXAMPLES

    trees = metrics.get("trees") or {"fresh": True}
    return not trees["fresh"] and (metrics.get("n_examples") or 0) >= MIN_TREE_EXAMPLES


def _take_stored_trees(space_id: int, snapshot, cache) -> None:
    """Give this process's ``cache`` the trees of the newest stored full fit, if they are
    newer than its own (another worker process fitted them)."""
    from mola.engine.learning import TaughtModel
    from mola.engine.learning.boosting import MIN_TREE_EXAMPLES

    have = cache.for_schema(snapshot.schema).trees
    if len(snapshot.examples) < MIN_TREE_EXAMPLES:
        return
    fitted = ModelVersion.objects.filter(
        space_id=space_id, status=ModelStatus.READY, metrics__trees__fresh=True
    )
    if have is not None:
        # Only newer trees matter, and those are recent: look among the last few versions
        # (each one's metrics are parsed: a few hundred kB at L).
        recent = ModelVersion.objects.filter(space_id=space_id, status=ModelStatus.READY)
        fitted = fitted.filter(
            pk__in=list(recent.order_by("-version").values_list("pk", flat=True)[:TREE_SOURCES])
        )
    newest = fitted.order_by("-version").values_list("pk", "teaching_revision").first()
    if newest is None or (have is not None and have.revision >= newest[1]):
        return
    data = ModelArtifact.objects.filter(version_id=newest[0]).values_list("data", flat=True)
    if data:
        cache.keep_trees(TaughtModel.from_bytes(bytes(data[0])).trees_)


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

    state = TrainingState.objects.filter(space_id=space_id).first()
    if state is None or state.wanted_revision > state.trained_revision:
        return None  # a quick retrain is due; it asks for its own refine
    revision = state.trained_revision
    serving = (
        ModelVersion.objects.filter(space_id=space_id, status=ModelStatus.READY)
        .order_by("-teaching_revision", "-version")
        .values_list("teaching_revision", "metrics")
        .first()
    )
    if serving is None or serving[0] != revision or not _refinable(serving[1]):
        return None  # refined already (a duplicate refine), or nothing to refine
    started = time.perf_counter()
    snapshot, cache_key = snapshot_read(space_id=space_id)
    if snapshot.revision != revision:
        return None  # a write since: its quick version comes next
    snapshot_seconds = time.perf_counter() - started
    try:
        with fit_cache(cache_key) as fitted:
            model = fit(
                snapshot,
                random_state=0,
                cache=fitted,
                trees="fit",
                cancelled=lambda: _newer_wanted(space_id, revision),
            )
    except FitCancelled:
        log.info("refine of space %s at %s gave way to a newer revision", space_id, revision)
        return None
    artifact = model.to_bytes()
    fit_seconds = time.perf_counter() - started - snapshot_seconds
    mine = _claim(space_id)
    if mine is None:
        return None  # a retrain of a newer revision holds the space
    try:
        if _newer_wanted(space_id, revision) or _refined(space_id, revision):
            return None
        version = _version_start(space_id, revision)
        return _publish(
            version,
            model,
            artifact,
            snapshot,
            started,
            {"snapshot": snapshot_seconds, "fit": fit_seconds},
            claim=mine,
        )
    finally:
        _release(space_id, mine)
        state = TrainingState.objects.filter(space_id=space_id).first()
        if state is not None and state.wanted_revision > state.trained_revision:
            # A retrain that found the space claimed while we published left its training
            # to the claim holder, as it leaves it to any.
            from teaching.tasks import retrain_space

            relay.send(retrain_space, (space_id,))


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


def _version_start(space_id: int, revision: int, *, requested_at=None) -> ModelVersion:
    """The space's next version, "training" until published (the claim holder numbers it)."""
    latest = ModelVersion.objects.filter(space_id=space_id).aggregate(Max("version"))
    return ModelVersion.objects.create(
        space_id=space_id,
        version=(latest["version__max"] or 0) + 1,
        teaching_revision=revision,
        status=ModelStatus.TRAINING,
        requested_at=requested_at,
    )


def _publish(
    version, model, artifact, snapshot, started, timings, *, claim: datetime | None = None
) -> ModelVersion | None:
    """Store the version as ready and the work done, in one transaction; refused when a
    newer revision is published, or when ``claim`` was taken over meanwhile (a process
    that hung past its lease must not publish beside the one that took its place)."""
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
        version.artifact = artifact
        version.metrics = model.metrics_
        version.contributors = contributors
        version.teachings = {
            "rule": [r.id for r in snapshot.rules],
            "concept": [c.id for c in snapshot.concepts],
            "example": [e.id for e in snapshot.examples if not e.evaluation],
        }
        version.trained_at = timezone.now()
        version.training_seconds = time.perf_counter() - started
        timings["publish"] = version.training_seconds - sum(timings.values())
        if version.requested_at:
            timings["queue"] = max(
                0.0, (started_at(started) - version.requested_at).total_seconds()
            )
        version.timings = timings
        version.status = ModelStatus.READY
        version_publishing_announce(version=version, model=model)  # may hold it back
        version.save()
        TrainingState.objects.filter(space_id=space_id).update(
            trained_revision=Greatest(F("trained_revision"), version.teaching_revision),
            last_error="",
            trainings=F("trainings") + 1,
        )
        revision = version.teaching_revision
        work_done(space_id=space_id, kind=WorkKind.RETRAIN, revision=revision)
        if _refinable(model.metrics_):  # a quick version: its refine is owed from now on
            work_record(space_id=space_id, kinds=(WorkKind.REFINE,), revision=revision)
        else:
            work_done(space_id=space_id, kind=WorkKind.REFINE, revision=revision)
    return version


def started_at(perf_start: float):
    """The wall-clock time at which a ``perf_counter`` reading was taken."""
    return timezone.now() - timedelta(seconds=time.perf_counter() - perf_start)
