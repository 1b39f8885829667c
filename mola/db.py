"""Database helpers shared by the apps."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import OperationalError, connection, transaction

log = logging.getLogger(__name__)


@contextmanager
def consistent_read() -> Iterator[None]:
    """A transaction in which every query sees the same snapshot of the database.

    PostgreSQL needs REPEATABLE READ for that (its default reads each statement's own
    snapshot); SQLite's transactions are snapshots already, but ours begin IMMEDIATE (the
    write lock up front, so writers queue): a read-only transaction begins DEFERRED instead,
    so a long read (a retrain's snapshot, a consensus index build) never holds the write
    lock that teachers' writes wait for. Inside a caller's transaction the level cannot
    change any more, and the caller's transaction is what we read in.
    """
    nested = connection.in_atomic_block
    deferred = connection.vendor == "sqlite" and not nested
    if deferred:
        connection.ensure_connection()
        mode, connection.transaction_mode = connection.transaction_mode, "DEFERRED"
    try:
        with transaction.atomic():
            if deferred:
                connection.transaction_mode = mode  # only this BEGIN was deferred
                deferred = False
            if connection.vendor == "postgresql" and not nested:
                with connection.cursor() as cursor:
                    cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            yield
    finally:
        if deferred:
            connection.transaction_mode = mode


def checkpoint() -> None:
    """Copy SQLite's write-ahead log back into the database file now; a no-op on other
    databases. The worker calls it after publishing a version, once announced.

    Why: SQLite checkpoints in the commit that takes the log past ``wal_autocheckpoint``
    pages (1,000 by default, 4 MB), with two fsyncs. A version's artefact is ~5 MB at M, so
    every publish paid that (~20–40 ms) between its commit and its announce, on the
    teacher's wait. The threshold is raised (the settings' init_command: 16,384 pages,
    64 MB) and the copy is made here, off that path. PASSIVE: it never waits for readers
    or writers; what it cannot copy yet, the next one does."""
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        return
    try:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")
    except OperationalError:  # the next one, or SQLite's own at 64 MB, copies it
        log.warning("the WAL checkpoint after a publish failed", exc_info=True)
