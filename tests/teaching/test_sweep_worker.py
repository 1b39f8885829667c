"""With a real worker: a check task that crashes every time is sent again by the sweep a
bounded number of times, further apart each time, then recorded as failed (in /healthz)."""

from __future__ import annotations

import time

import pytest

from mola import relay
from mola.celery import app
from teaching.models import Outbox, Space, WorkKind
from teaching.services.rules import rule_create
from tests.worker import CeleryWorker

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]

MAX_SENDS = 3


@pytest.fixture
def crashing_check(space, teacher):
    """A pending check of a space whose stored schema was then broken behind the services'
    back (a feature without its kind): every consensus check of it raises."""
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False  # the write's own check is lost: the sweep sends it
    try:
        rule_create(space=space, user=teacher, condition="elbow_angle > 90", label="no cue")
        assert relay.flush()
    finally:
        app.conf.task_always_eager = eager
    Space.objects.filter(pk=space.pk).update(features=[{"name": "elbow_angle"}])
    Outbox.objects.filter(space=space).exclude(kind=WorkKind.CHECK).delete()
    return space


@pytest.fixture
def sweeping_worker(monkeypatch):
    monkeypatch.setenv("MOLA_SWEEP_SECONDS", "1")
    monkeypatch.setenv("MOLA_SWEEP_RESEND_SECONDS", "1")
    monkeypatch.setenv("MOLA_SWEEP_MAX_SENDS", str(MAX_SENDS))
    worker = CeleryWorker()
    worker.start()
    yield worker
    worker.stop()


def test_a_task_that_always_fails_is_sent_a_bounded_number_of_times(
    crashing_check, sweeping_worker, client
):
    row = Outbox.objects.get(space=crashing_check, kind=WorkKind.CHECK)
    logged_before = sweeping_worker.log_path.stat().st_size
    deadline = time.monotonic() + 90  # grace 10 s, then sends 1, 2 and 4 s apart
    while time.monotonic() < deadline:
        row.refresh_from_db()
        if row.failed_at is not None:
            break
        time.sleep(0.5)
    assert row.failed_at is not None, f"not given up after {row.sends} sends"
    assert row.sends == MAX_SENDS
    log = sweeping_worker.log_path.read_bytes()[logged_before:].decode(errors="replace")
    assert log.count("consensus.check") >= MAX_SENDS and "giving up" in log
    time.sleep(5)  # well past the next backoff: no further send
    row.refresh_from_db()
    assert row.sends == MAX_SENDS
    backlog = client.get("/healthz").json()["backlog"]
    assert backlog["failed"] == 1 and backlog["pending"] == 1
