"""Database helpers shared by the apps."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection, transaction


@contextmanager
def consistent_read() -> Iterator[None]:
    """A transaction in which every query sees the same snapshot of the database.

    PostgreSQL needs REPEATABLE READ for that (its default reads each statement's own
    snapshot); SQLite's transactions are snapshots already. Inside a caller's transaction
    the level cannot change any more, and the caller's transaction is what we read in.
    """
    nested = connection.in_atomic_block
    with transaction.atomic():
        if connection.vendor == "postgresql" and not nested:
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        yield
