"""The work a space needs after a write — retrain, consensus check, refine — kept until done.

- ``work_record`` (inside the write's transaction) upserts the space's row of that kind:
  the work is committed with the write or not at all;
- after commit the write hands the task to ``mola.relay``, which sends it without making
  the request wait for the broker;
- the task, when done up to some revision, calls ``work_done``;
- ``sweep`` (run by a thread of every worker, ``mola.sweeper``) sends again the work that is
  overdue: pending longer than its kind's grace, not being worked on by a live process (a
  retrain's claim and a check's row carry heartbeats, ``mola.leases``), and not sent in the
  last ``resend_after(sends)`` seconds (``MOLA_SWEEP_RESEND_SECONDS``, doubling with each
  send). So a lost message, a broker that was down, a worker killed -9 mid-training or
  retries that ran out all end in the work being done, with no new write. Work whose task
  fails every time is sent ``MOLA_SWEEP_MAX_SENDS`` times, then marked failed (logged, and
  counted in /healthz's backlog) until the space's next write asks for it again.

Sending twice is harmless: every task is idempotent (a retrain trains only what is wanted
and not trained, a check only what is not checked).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F, Min, Q
from django.utils import timezone

from mola.celery import app
from mola.env import env_int
from mola.leases import lease_expired_before
from teaching.models import Outbox, TrainingState, WorkKind

log = logging.getLogger(__name__)

# Seconds a kind of work may be pending before the sweep sends it again. A retrain or check
# normally starts within a second of its write; a refine is sent 1.5 s after its quick
# version and may wait behind retrains.
GRACE_SECONDS = {WorkKind.RETRAIN: 10, WorkKind.CHECK: 10, WorkKind.REFINE: 60}


def resend_after(sends: int) -> float:
    """Seconds before the sweep sends a row again after its ``sends``-th send: 30 s, then
    doubling (a task that crashes is not sent every 30 s for ever), at most an hour."""
    return min(env_int("MOLA_SWEEP_RESEND_SECONDS", 30) * 2 ** max(sends - 1, 0), 3600)


def max_sends() -> int:
    return env_int("MOLA_SWEEP_MAX_SENDS", 6)


CHECK_TASK = "consensus.check"  # consensus's task that clears a check row


def work_record(*, space_id: int, kinds: tuple[str, ...], revision: int) -> None:
    """Inside a transaction: the space needs ``kinds`` of work done up to ``revision``.

    Keeps a pending row's ``since`` (its oldest unmet request) and raises its revision.
    """
    assert transaction.get_connection().in_atomic_block, "call inside the write's transaction"
    now = timezone.now()
    for kind in kinds:
        updated = Outbox.objects.filter(space_id=space_id, kind=kind, revision__lt=revision)
        if updated.update(revision=revision, sends=0, failed_at=None):
            continue
        Outbox.objects.bulk_create(
            [Outbox(space_id=space_id, kind=kind, revision=revision, since=now)],
            ignore_conflicts=True,  # a row at this revision or newer: nothing to raise
        )


def work_done(*, space_id: int, kind: str, revision: int) -> None:
    """The space's ``kind`` of work is done up to ``revision``: remove its row unless a newer
    revision is wanted meanwhile; then the rest is pending from now on."""
    rows = Outbox.objects.filter(space_id=space_id, kind=kind)
    if not rows.filter(revision__lte=revision).delete()[0]:
        rows.filter(revision__gt=revision).update(
            since=timezone.now(), heartbeat_at=None, sends=0, failed_at=None
        )


def work_started(*, space_id: int, kind: str) -> None:
    """A task starts working on the row: live from now on (it keeps a lease on it)."""
    Outbox.objects.filter(space_id=space_id, kind=kind).update(heartbeat_at=timezone.now())


def backlog(now: datetime | None = None) -> dict:
    """How much work is pending, how much of it is overdue, and the age of the oldest
    overdue work in seconds (0 when none is)."""
    now = now or timezone.now()
    pending = Outbox.objects.count()
    overdue = _overdue(now)
    oldest = overdue.aggregate(oldest=Min("since"))["oldest"]
    return {
        "pending": pending,
        "overdue": overdue.count(),
        "oldest_overdue_seconds": round((now - oldest).total_seconds(), 1) if oldest else 0,
        "failed": Outbox.objects.filter(failed_at__isnull=False).count(),
    }


def _overdue(now: datetime):
    """Rows pending past their grace that no live process works on (failed ones included)."""
    dead = lease_expired_before()
    late = Q()
    for kind, grace in GRACE_SECONDS.items():
        late |= Q(kind=kind, since__lt=now - timedelta(seconds=grace))
    rows = Outbox.objects.filter(late)
    # A retrain held by a live claim, a check a live task works on, are under way.
    trained_live = TrainingState.objects.filter(
        running_since__isnull=False, heartbeat_at__gte=dead
    ).values("space_id")
    rows = rows.exclude(kind=WorkKind.RETRAIN, space_id__in=trained_live)
    return rows.exclude(~Q(kind=WorkKind.RETRAIN), heartbeat_at__gte=dead)


def sweep(limit: int = 500) -> int:
    """Send again the overdue work (at most ``limit`` rows); returns how many were sent.

    Each row is taken with a conditional UPDATE of ``sent_at``, so several workers sweeping
    at once send it once."""
    now = timezone.now()
    sent = 0
    rows = _overdue(now).filter(failed_at__isnull=True).order_by("since")[:limit]
    for row in rows:
        if row.sent_at and (now - row.sent_at).total_seconds() < resend_after(row.sends):
            continue
        if row.sends >= max_sends():
            _give_up(row, now)
            continue
        taken = Outbox.objects.filter(pk=row.pk, sent_at=row.sent_at).update(
            sent_at=now, sends=F("sends") + 1
        )
        if taken and _send(row):
            sent += 1
    return sent


def _give_up(row: Outbox, now: datetime) -> None:
    if Outbox.objects.filter(pk=row.pk, failed_at__isnull=True).update(failed_at=now):
        log.error(
            "sweep: %s of space %s (revision %s) was sent %s times and never done; giving up "
            "until the space's next write",
            row.kind,
            row.space_id,
            row.revision,
            row.sends,
        )


def _send(row: Outbox) -> bool:
    """Publish the row's task now (the sweep runs in its own thread: it may wait)."""
    from teaching.tasks import refine_space, retrain_space

    log.warning(
        "sweep: %s of space %s pending since %s (revision %s): sending it again",
        row.kind,
        row.space_id,
        row.since.isoformat(timespec="seconds"),
        row.revision,
    )
    try:
        if row.kind == WorkKind.RETRAIN:
            retrain_space.apply_async((row.space_id,), {"revision": row.revision})
        elif row.kind == WorkKind.CHECK:
            # By name, from the registry: consensus sits above teaching (docs/architecture.md).
            app.tasks[CHECK_TASK].apply_async((row.space_id, row.revision, []))
        else:
            refine_space.apply_async((row.space_id,))
    except Exception:
        log.warning("sweep: broker unavailable; %s of space %s waits", row.kind, row.space_id)
        # Not an attempt: try again next sweep.
        Outbox.objects.filter(pk=row.pk).update(sent_at=row.sent_at, sends=F("sends") - 1)
        return False
    return True
