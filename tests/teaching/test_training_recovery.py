"""A retrain the database fails under, or whose worker died, recovers by itself: the claim is
released or handed to the retry, and the newest revision is published without another write.

Tasks run eagerly in this process (``task_always_eager``), so the scenarios are exact and no
worker of another test trains the space behind our back; the database is the real one.
"""

from __future__ import annotations

import sqlite3
from datetime import timedelta

import pytest
from django.db import OperationalError, connection
from django.utils import timezone

from mola.celery import app
from mola.leases import LEASE_SECONDS
from teaching.models import ModelStatus, ModelVersion, TrainingState
from teaching.selectors import model_status
from teaching.services.rules import rule_create
from teaching.services.training import RetrainInterrupted, retrain_run
from teaching.tasks import retrain_space

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def eager_tasks():
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


def _write(space, user, n: int) -> int:
    _, revision = rule_create(
        space=space, user=user, condition=f"toss_height_cm > {n}", label="no cue"
    )
    return revision


def _claim_as_another_worker(space, since) -> None:
    # A claim and its last heartbeat, as a worker that took it at ``since`` left them.
    TrainingState.objects.filter(space=space).update(running_since=since, heartbeat_at=since)


def _versions(space) -> list[tuple[int, str]]:
    return list(
        ModelVersion.objects.filter(space=space)
        .order_by("version")
        .values_list("teaching_revision", "status")
    )


def _the_retry_takes_the_claim_on(space, claim: str, first: int, newest: int) -> None:
    """After a training was locked out: the claim it handed on still holds the space, and
    the retry that carries it trains the newest revision."""
    state = TrainingState.objects.get(space=space)
    assert state.running_since.isoformat() == claim
    assert state.trained_revision == first
    assert retrain_run(space_id=space.pk) == 0  # a live claim: nobody else trains

    assert retrain_run(space_id=space.pk, claim=claim) == 1
    assert _settled(space, newest)
    assert _versions(space)[-2:] == [(newest, ModelStatus.FAILED), (newest, ModelStatus.READY)]


def _settled(space, revision: int) -> bool:
    state = TrainingState.objects.get(space=space)
    space.refresh_from_db()
    status = model_status(space=space)
    return (
        state.running_since is None
        and state.trained_revision == revision
        and status["status"] == "ready"
        and status["teaching_revision"] == revision
    )


def test_a_claim_left_by_a_dead_worker_is_taken_over(eager_tasks, space, teacher):
    first = _write(space, teacher, 10)
    assert _settled(space, first)
    # Another worker takes the space and dies; a write meanwhile cannot claim it.
    _claim_as_another_worker(space, timezone.now())
    newest = _write(space, teacher, 20)
    space.refresh_from_db()
    assert model_status(space=space)["status"] == "training"
    assert TrainingState.objects.get(space=space).trained_revision == first
    orphan = ModelVersion.objects.create(
        space=space, version=99, teaching_revision=newest, status=ModelStatus.TRAINING
    )

    # Its heartbeat stops: the next retrain task (the sweep's) takes the space over.
    _claim_as_another_worker(space, timezone.now() - timedelta(seconds=LEASE_SECONDS + 1))
    assert retrain_space.apply(args=(space.pk,)).get() == 1

    assert _settled(space, newest)
    orphan.refresh_from_db()
    assert orphan.status == ModelStatus.FAILED and "interrupted" in orphan.error


def test_a_publish_the_database_refuses_once_is_retried(eager_tasks, space, teacher):
    refused = []

    def refuse_the_first_publish(execute, sql, params, many, context):
        # Publishing stores the artifact, in the transaction that makes the version ready.
        publish = sql.startswith('INSERT INTO "teaching_modelartifact"')
        if publish and not refused:
            refused.append(sql)
            raise OperationalError("database is locked")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(refuse_the_first_publish):
        revision = _write(space, teacher, 10)  # retrains on commit, eagerly

    assert refused
    assert _settled(space, revision)
    # The interrupted attempt's version is marked failed by the retry; the retry's is ready.
    assert _versions(space) == [(revision, ModelStatus.FAILED), (revision, ModelStatus.READY)]


@pytest.mark.skipif("connection.vendor != 'sqlite'")
def test_a_training_locked_out_of_sqlite_hands_its_claim_to_the_retry(eager_tasks, space, teacher):
    first = _write(space, teacher, 10)
    _claim_as_another_worker(space, timezone.now())
    newest = _write(space, teacher, 20)  # wanted, not trained: the claim was taken
    _claim_as_another_worker(space, None)

    # Another process takes SQLite's write lock as soon as our training has started.
    holder = sqlite3.connect(connection.settings_dict["NAME"], isolation_level=None)

    started = []

    def lock_after_the_version_row(execute, sql, params, many, context):
        # The statement after the version row is created (the publish): by then the insert
        # has finished with the database.
        if started and not holder.in_transaction:
            holder.execute("BEGIN IMMEDIATE")
        if sql.startswith('INSERT INTO "teaching_modelversion"'):
            started.append(sql)
        return execute(sql, params, many, context)

    with connection.cursor() as cursor:
        cursor.execute("PRAGMA busy_timeout = 200")  # fail fast instead of after 30 s
    try:
        with (
            connection.execute_wrapper(lock_after_the_version_row),
            pytest.raises(RetrainInterrupted) as interrupted,
        ):
            retrain_run(space_id=space.pk)
        # The publish and the release were both refused: the claim stays, handed on.
        assert interrupted.value.claim is not None
        assert isinstance(interrupted.value.__cause__, OperationalError)
    finally:
        holder.rollback()
        holder.close()
    _the_retry_takes_the_claim_on(space, interrupted.value.claim, first, newest)


@pytest.mark.skipif("connection.vendor != 'sqlite'")
def test_reading_a_snapshot_leaves_sqlite_writable(space, teacher):
    from mola.db import consistent_read
    from teaching.services.training import space_snapshot

    _write(space, teacher, 10)
    other = sqlite3.connect(connection.settings_dict["NAME"], isolation_level=None, timeout=0)
    try:
        with consistent_read():
            snapshot = space_snapshot(space)
            other.execute("BEGIN IMMEDIATE")  # a teacher's write goes on meanwhile
            other.execute("UPDATE teaching_space SET name = 'renamed'")
            other.execute("COMMIT")
            assert space_snapshot(space).revision == snapshot.revision
    finally:
        other.close()


def _postgres_holder():
    """A second PostgreSQL session on the test database (autocommit)."""
    import psycopg

    params = connection.get_connection_params()
    keys = ("dbname", "user", "password", "host", "port")
    return psycopg.connect(**{k: params[k] for k in keys if params.get(k)}, autocommit=True)


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_a_training_locked_out_of_postgresql_hands_its_claim_to_the_retry(
    eager_tasks, space, teacher
):
    """The twin of the SQLite test: another session holds the space's training row once our
    training has started, so the publish and the release wait past ``lock_timeout``."""
    first = _write(space, teacher, 10)
    _claim_as_another_worker(space, timezone.now())
    newest = _write(space, teacher, 20)
    _claim_as_another_worker(space, None)

    holder = _postgres_holder()
    started = []

    def lock_after_the_version_row(execute, sql, params, many, context):
        if started and not holder.info.transaction_status:
            holder.execute("BEGIN")
            holder.execute(
                "SELECT 1 FROM teaching_trainingstate WHERE space_id = %s FOR UPDATE", [space.pk]
            )
        if sql.startswith('INSERT INTO "teaching_modelversion"'):
            started.append(sql)
        return execute(sql, params, many, context)

    with connection.cursor() as cursor:
        cursor.execute("SET lock_timeout = '200ms'")  # fail fast instead of waiting
    try:
        with (
            connection.execute_wrapper(lock_after_the_version_row),
            pytest.raises(RetrainInterrupted) as interrupted,
        ):
            retrain_run(space_id=space.pk)
        assert interrupted.value.claim is not None
        assert isinstance(interrupted.value.__cause__, OperationalError)
    finally:
        holder.rollback()
        holder.close()
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = 0")
    _the_retry_takes_the_claim_on(space, interrupted.value.claim, first, newest)


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_reading_a_snapshot_leaves_postgresql_writable(space, teacher):
    """The twin of the SQLite test: a snapshot read holds no lock a write waits for, and it
    keeps seeing the state it began with while another session commits a change."""
    from mola.db import consistent_read
    from teaching.models import Space
    from teaching.services.training import space_snapshot

    revision = _write(space, teacher, 10)
    other = _postgres_holder()
    try:
        with consistent_read():
            space_snapshot(space)  # what a retrain reads
            other.execute("SET lock_timeout = '200ms'")  # a write that waited would fail
            other.execute(
                "UPDATE teaching_space SET name = 'renamed', "
                "teaching_revision = teaching_revision + 1 WHERE id = %s",
                [space.pk],
            )
            assert Space.objects.get(pk=space.pk).teaching_revision == revision
    finally:
        other.close()
    space.refresh_from_db()
    assert space.name == "renamed" and space.teaching_revision == revision + 1
