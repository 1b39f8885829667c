"""A space's training claim: who trains it now (its ``TrainingState`` row).

Owns taking the claim with a conditional UPDATE (free, expired, or one of ours kept by an
interrupted attempt), its heartbeat while held (``mola.leases``), releasing only that claim,
and ``RetrainInterrupted``, which hands a claim that could not be released to the retry.
"""

from __future__ import annotations

import os
import socket
from datetime import datetime

from django.db import OperationalError
from django.db.models import Q
from django.utils import timezone

from mola.leases import lease, lease_expired_before
from teaching.models import ModelStatus, ModelVersion, TrainingState


class RetrainInterrupted(Exception):
    """The database failed under a retrain; the task retries. ``claim`` is the claim the
    task still holds (it could not release it), for the retry to take back, or None."""

    def __init__(self, claim: str | None) -> None:
        super().__init__(f"retrain interrupted by the database (claim kept: {claim})")
        self.claim = claim


def claim_take(space_id: int, kept: datetime | None = None) -> datetime | None:
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


def claim_lease(space_id: int, claim: datetime):
    """Keep the claim's heartbeat while it is held (see ``mola.leases``)."""
    return lease(TrainingState.objects.filter(space_id=space_id, running_since=claim))


def claim_release(space_id: int, claim: datetime) -> None:
    TrainingState.objects.filter(space_id=space_id, running_since=claim).update(
        running_since=None, running_revision=None, heartbeat_at=None, claimed_by=""
    )


def claim_release_or_keep(space_id: int, claim: datetime) -> str | None:
    """Release ``claim`` after a failure; if the database refuses that too, the claim as
    text for the retry to take back."""
    try:
        claim_release(space_id, claim)
    except OperationalError:
        return claim.isoformat()
    return None
