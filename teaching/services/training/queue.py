"""Asking for a retrain, and the retrain task's loop over a space's wanted revisions.

Owns ``wanted_revision`` (raised in the write's transaction, with the outbox record),
sending the task after commit, the task's retry delays, and ``retrain_run``: claim the
space, train its newest revision (``quick.train_space``), release, and go again while a
newer revision is wanted (at most ``MAX_ROUNDS`` in one task).
"""

from __future__ import annotations

import logging
from datetime import datetime

from celery.utils.time import get_exponential_backoff_interval
from django.db import OperationalError
from django.utils import timezone

from mola import relay
from mola.db import checkpoint
from teaching.models import Space, TrainingState, WorkKind
from teaching.services.outbox import work_done, work_record
from teaching.services.training.claims import (
    RetrainInterrupted,
    claim_lease,
    claim_release,
    claim_release_or_keep,
    claim_take,
)
from teaching.services.training.quick import train_space

log = logging.getLogger(__name__)

RETRAIN_TIME_LIMIT = 300  # seconds: the retrain task's hard limit (Celery kills it past this)
RETRAIN_SOFT_TIME_LIMIT = 240
RETRAIN_RETRIES = 8  # retries of a task the database failed under: ~1, 2, 4 … 60 s apart
RETRY_BACKOFF_MAX = 60
MAX_ROUNDS = 5  # trainings one task does back to back before leaving the rest to a new task


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
    # ``requested_at`` is when the write asked (the "queue" stage starts there): the task's
    # own call for the same revision must not move it past the broker's delivery.
    TrainingState.objects.filter(space_id=space_id, wanted_revision__lt=revision).update(
        wanted_revision=revision, requested_at=timezone.now()
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
                    claim_release(space_id, kept)
                if state is not None:  # a duplicate or swept task: clear what it was for
                    work_done(
                        space_id=space_id, kind=WorkKind.RETRAIN, revision=state.trained_revision
                    )
                return rounds
            mine = claim_take(space_id, kept)
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
                with claim_lease(space_id, mine):
                    train_space(space_id=space_id, claim=mine)
                rounds += 1
        except OperationalError as error:
            raise RetrainInterrupted(claim_release_or_keep(space_id, mine)) from error
        except BaseException:
            claim_release_or_keep(space_id, mine)  # a bug or a time limit: never keep the space
            raise
        try:
            claim_release(space_id, mine)
        except OperationalError as error:
            raise RetrainInterrupted(mine.isoformat()) from error
        # After the announce, the refine's send and the claim's release: mola.db says why.
        # Not before the release: the claim says "training" (GET /model) until then.
        checkpoint()
    from teaching.tasks import retrain_space

    relay.send(retrain_space, (space_id,))  # still behind after MAX_ROUNDS: another task
    return rounds
