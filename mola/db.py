"""Database helpers shared by the apps."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection, transaction


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
