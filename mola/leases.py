"""Heartbeats for the rows a process is working on, so a worker that dies is noticed fast.

A claim is only as good as the way a dead holder is recognised. A claim's age cannot tell:
a training may take minutes, so a claim older than the task's time limit (5 min) was the
old rule, and a worker killed mid-training left its space at "training" that long. Instead,
while a block of work runs, one daemon thread per process sets a timestamp column of the
rows it holds to now every ``BEAT_SECONDS``; a row whose timestamp is older than
``LEASE_SECONDS`` was left by a process that died (or hangs), and others may take it over.

The thread uses its own database connection, closed after each round (nothing is left open
between beats), and stops when no lease is held.
"""

from __future__ import annotations

import logging
import threading
from contextlib import contextmanager
from datetime import timedelta
from itertools import count

from django.db import connections
from django.db.models import QuerySet
from django.utils import timezone

log = logging.getLogger(__name__)

LEASE_SECONDS = 20.0  # a heartbeat older than this belongs to a dead (or hung) process
BEAT_SECONDS = 4.0  # how often a live process refreshes its heartbeats


def lease_expired_before():
    """Heartbeats older than this are dead processes'."""
    return timezone.now() - timedelta(seconds=LEASE_SECONDS)


class _Beater:
    def __init__(self) -> None:
        self._held: dict[int, tuple[QuerySet, str]] = {}
        self._tokens = count()
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._thread: threading.Thread | None = None

    def hold(self, queryset: QuerySet, field: str) -> int:
        with self._lock:
            token = next(self._tokens)
            self._held[token] = (queryset, field)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="mola-leases", daemon=True)
                self._thread.start()
            return token

    def release(self, token: int) -> None:
        with self._lock:
            self._held.pop(token, None)
            self._wake.notify()

    def _run(self) -> None:
        while True:
            with self._lock:
                self._wake.wait(BEAT_SECONDS)
                if not self._held:
                    self._thread = None
                    return
                held = list(self._held.values())
            try:
                now = timezone.now()
                for queryset, field in held:
                    queryset.update(**{field: now})
            except Exception:
                log.warning("could not refresh a heartbeat", exc_info=True)
            finally:
                connections.close_all()  # this thread's connections only


_beater = _Beater()


@contextmanager
def lease(queryset: QuerySet, field: str = "heartbeat_at"):
    """While the block runs, keep ``field`` of the rows in ``queryset`` at the current time
    (set once at the start by the caller, then every ``BEAT_SECONDS`` by this process)."""
    token = _beater.hold(queryset, field)
    try:
        yield
    finally:
        _beater.release(token)
