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

Quick, then refined. The forest is most of a fit, so a retrain reuses the trees of the
space's last full fit (``fit(…, trees="reuse")``: new examples act at once through the
neighbours, a counterexample through its veto) and publishes in a fraction of that. It then
asks for a *refine* (``refine_schedule``): at once (``REFINE_DELAY``), a full fit of the same
revision is published as a newer version of it. At most one refine is pending per space. A
refine computes without the claim — a quick retrain of a newer revision never waits for
it — and gives up as soon as a newer revision is wanted (before each forest and between its
parts of a few trees, and under the claim before publishing): that revision's quick
version and its own refine supersede it. A refine fits its forest with
``settings.REFINE_THREADS`` threads, keeps the forest setting its last grid search chose
while the examples are about as many (forest_trust.settled_setting), and records where its time
went per stage, wall and CPU (``ModelVersion.timings``, ``stages.py``). Each
worker process keeps its own trees (``FitCache``); one without them, or with older ones
than a stored version's, takes them from that version's artefact.

The modules, one concern each:

- ``claims`` — taking, keeping (heartbeat) and releasing a space's training claim;
- ``queue`` — asking for a retrain and the retrain task's loop (``retrain_run``);
- ``quick`` — one quick retrain of the newest revision (``train_space``);
- ``refine`` — scheduling and running the full fit that follows it;
- ``publish`` — numbering a version and publishing it (or refusing to).
"""

from teaching.services.snapshots import space_snapshot
from teaching.services.training.claims import RetrainInterrupted
from teaching.services.training.queue import (
    RETRAIN_RETRIES,
    RETRAIN_SOFT_TIME_LIMIT,
    RETRAIN_TIME_LIMIT,
    retrain_gave_up,
    retrain_request,
    retrain_retry_delay,
    retrain_run,
    retrain_schedule,
    retrain_want,
)
from teaching.services.training.quick import train_space
from teaching.services.training.refine import REFINE_DELAY, refine_run, refine_schedule

__all__ = [
    "REFINE_DELAY",
    "RETRAIN_RETRIES",
    "RETRAIN_SOFT_TIME_LIMIT",
    "RETRAIN_TIME_LIMIT",
    "RetrainInterrupted",
    "refine_run",
    "refine_schedule",
    "retrain_gave_up",
    "retrain_request",
    "retrain_retry_delay",
    "retrain_run",
    "retrain_schedule",
    "retrain_want",
    "space_snapshot",
    "train_space",
]
