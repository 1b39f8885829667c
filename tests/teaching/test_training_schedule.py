"""The outbox: a write records the work it needs in its own transaction, the work is cleared
when done, and the sweep sends again what is overdue — a lost message, a dead worker's
claim — so the model is trained with no new write.

Tasks run eagerly in this process; the database is the real one.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import OperationalError, connection
from django.utils import timezone

from mola import relay
from mola.celery import app
from mola.leases import LEASE_SECONDS
from teaching.models import Outbox, Rule, TrainingState, WorkKind
from teaching.selectors import model_status
from teaching.services import outbox
from teaching.services.rules import rule_create
from teaching.services.training import retrain_run
from tests.factories import SPACE_API as S

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def eager_tasks():
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


def _rows(space) -> dict[str, int]:
    return dict(Outbox.objects.filter(space=space).values_list("kind", "revision"))


def _write(space, user, n: int) -> int:
    _, revision = rule_create(
        space=space, user=user, condition=f"toss_height_cm > {n}", label="no cue"
    )
    return revision


def _write_lost(space, user, n: int) -> int:
    """A write whose messages are lost (sent to a queue no worker reads)."""
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    try:
        revision = _write(space, user, n)
        assert relay.flush()
    finally:
        app.conf.task_always_eager = eager
    return revision


def _age(space, kind: str, seconds: float) -> None:
    Outbox.objects.filter(space=space, kind=kind).update(
        since=timezone.now() - timedelta(seconds=seconds)
    )


def test_a_write_records_its_retrain_and_check_with_itself(space, teacher):
    # Tasks go to a queue no worker reads: the messages are lost, the outbox keeps the work.
    revision = _write(space, teacher, 10)
    assert _rows(space) == {"retrain": revision, "check": revision}
    newest = _write(space, teacher, 20)
    assert _rows(space) == {"retrain": newest, "check": newest}


def test_a_write_whose_work_cannot_be_recorded_is_not_stored(api, space, teacher):
    def refuse_the_record(execute, sql, params, many, context):
        if sql.startswith("INSERT") and '"teaching_outbox"' in sql:
            raise OperationalError("database is locked")
        return execute(sql, params, many, context)

    client = api(teacher)
    client.raise_request_exception = False
    with connection.execute_wrapper(refuse_the_record):
        response = client.post(
            f"{S}/rules", {"condition": "toss_height_cm > 90", "label": "no cue"}, format="json"
        )
    assert response.status_code >= 500
    space.refresh_from_db()
    assert space.teaching_revision == 0  # all or nothing: no write without its work
    assert not Rule.objects.filter(space=space).exists()
    assert _rows(space) == {}


def test_work_done_clears_the_row_and_keeps_newer_work(space, teacher):
    first = _write(space, teacher, 10)
    newest = _write(space, teacher, 20)
    outbox.work_done(space_id=space.pk, kind=WorkKind.RETRAIN, revision=first)
    assert _rows(space)["retrain"] == newest  # the newer revision is still owed
    outbox.work_done(space_id=space.pk, kind=WorkKind.RETRAIN, revision=newest)
    assert "retrain" not in _rows(space)


def test_a_lost_retrain_is_sent_again_by_the_sweep(eager_tasks, space, teacher):
    revision = _write_lost(space, teacher, 10)
    assert outbox.sweep() == 0  # not overdue yet
    _age(space, WorkKind.RETRAIN, outbox.GRACE_SECONDS[WorkKind.RETRAIN] + 1)
    _age(space, WorkKind.CHECK, outbox.GRACE_SECONDS[WorkKind.CHECK] + 1)
    assert outbox.backlog()["overdue"] == 2
    assert outbox.backlog()["oldest_overdue_seconds"] >= 10

    assert outbox.sweep() == 2
    space.refresh_from_db()
    status = model_status(space=space)
    assert (status["status"], status["teaching_revision"]) == ("ready", revision)
    assert _rows(space) == {}
    assert outbox.backlog() == {
        "pending": 0,
        "overdue": 0,
        "oldest_overdue_seconds": 0,
        "failed": 0,
    }


def test_the_sweep_leaves_a_live_claim_alone_and_takes_a_dead_ones(eager_tasks, space, teacher):
    revision = _write_lost(space, teacher, 10)
    _age(space, WorkKind.RETRAIN, 60)
    now = timezone.now()
    TrainingState.objects.filter(space=space).update(running_since=now, heartbeat_at=now)
    Outbox.objects.filter(space=space, kind=WorkKind.CHECK).delete()
    assert outbox.sweep() == 0  # a live worker trains it

    dead = now - timedelta(seconds=LEASE_SECONDS + 1)
    TrainingState.objects.filter(space=space).update(heartbeat_at=dead)
    assert outbox.sweep() == 1  # its heartbeat stopped: sent again, and the claim taken over
    state = TrainingState.objects.get(space=space)
    assert state.running_since is None and state.trained_revision == revision
    assert _rows(space) == {}


def test_several_sweeps_send_a_row_once(space, teacher):
    _write(space, teacher, 10)
    _age(space, WorkKind.RETRAIN, 60)
    _age(space, WorkKind.CHECK, 60)
    assert outbox.sweep() == 2  # to the queue no worker reads
    assert outbox.sweep() == 0  # sent a moment ago: not again before resend_after(1)
    Outbox.objects.filter(space=space).update(
        sent_at=timezone.now() - timedelta(seconds=outbox.resend_after(1) + 1)
    )
    assert outbox.sweep() == 2


def test_a_task_that_outlived_its_space_does_nothing(space):
    gone = space.pk + 1000
    assert retrain_run(space_id=gone, revision=3) == 0
    assert not TrainingState.objects.filter(space_id=gone).exists()


def test_the_sweep_backs_off_gives_up_and_a_new_write_tries_again(space, teacher, monkeypatch):
    monkeypatch.setenv("MOLA_SWEEP_MAX_SENDS", "3")
    _write(space, teacher, 10)
    Outbox.objects.filter(space=space, kind=WorkKind.CHECK).delete()
    waits = []
    for _ in range(3):
        _age(space, WorkKind.RETRAIN, 600)
        assert outbox.sweep() == 1  # to the queue no worker reads: the work is never done
        row = Outbox.objects.get(space=space)
        waits.append(outbox.resend_after(row.sends))
        assert outbox.sweep() == 0  # backing off
        Outbox.objects.filter(pk=row.pk).update(sent_at=row.sent_at - timedelta(hours=1))
    assert waits == [30, 60, 120] and row.sends == 3
    assert outbox.sweep() == 0  # sent three times: given up
    assert Outbox.objects.get(pk=row.pk).failed_at is not None
    assert outbox.backlog()["failed"] == 1
    Outbox.objects.filter(pk=row.pk).update(sent_at=row.sent_at - timedelta(days=1))
    assert outbox.sweep() == 0  # and stays given up
    _write(space, teacher, 11)  # a new write asks again
    row = Outbox.objects.get(pk=row.pk)
    assert (row.sends, row.failed_at, outbox.backlog()["failed"]) == (0, None, 0)
