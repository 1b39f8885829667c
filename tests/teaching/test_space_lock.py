"""A teaching write's lock on its space must not stop rows that merely refer to the space
(a worker publishing a model version, recording its outbox work) — on PostgreSQL that wait
closed a deadlock with the write's own retrain record (bench/load.py, 50 teachers)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone

from teaching.models import Outbox, WorkKind
from teaching.services.revisions import space_lock

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_a_row_referring_to_a_locked_space_is_written_without_waiting(space):
    locked, release, inserted = threading.Event(), threading.Event(), threading.Event()

    def writer() -> None:
        with transaction.atomic():
            space_lock(space_id=space.pk)
            locked.set()
            release.wait(10)
        connections.close_all()

    holder = threading.Thread(target=writer)
    holder.start()
    try:
        assert locked.wait(10)
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '2s'")
        Outbox.objects.create(
            space=space, kind=WorkKind.REFINE, revision=1, since=timezone.now()
        )  # a lock_timeout error here means it waited for the write's lock
        inserted.set()
    finally:
        release.set()
        holder.join(10)
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = 0")
    assert inserted.is_set()
