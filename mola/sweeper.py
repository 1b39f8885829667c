"""The sweep thread every Celery worker runs: overdue work is sent again.

What to sweep, and how far behind the work is, the apps register (``register``: teaching's
outbox, in ``TeachingConfig.ready``); the kernel only runs it and reports it (/healthz).
Started when the worker is ready (``mola.celery``), in the worker's main process, so it
lives as long as the worker and needs no process of its own (``make demo``, docker-compose
and the tests' workers all have it). Several workers sweeping at once send each row once.
``MOLA_SWEEP_SECONDS`` sets the interval; 0 turns the sweep off.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from django.db import connections

from mola.env import env_int

log = logging.getLogger(__name__)

_started = threading.Event()
_sweeps: list[Callable[[], int]] = []
_backlogs: list[Callable[[], dict]] = []


def register(*, sweep: Callable[[], int], backlog: Callable[[], dict]) -> None:
    """``sweep`` sends overdue work again (returns how much); ``backlog`` says how much is
    pending (``{"pending", "overdue", "oldest_overdue_seconds", "failed"}``: failed is work the
    sweep gave up on after sending it again and again)."""
    if sweep not in _sweeps:
        _sweeps.append(sweep)
        _backlogs.append(backlog)


def backlog() -> dict:
    """The registered backlogs, added up (the oldest overdue work is the oldest of all)."""
    total = {"pending": 0, "overdue": 0, "oldest_overdue_seconds": 0, "failed": 0}
    for report in (b() for b in _backlogs):
        for key in ("pending", "overdue", "failed"):
            total[key] += report.get(key, 0)
        total["oldest_overdue_seconds"] = max(
            total["oldest_overdue_seconds"], report["oldest_overdue_seconds"]
        )
    return total


def sweep_interval() -> int:
    return env_int("MOLA_SWEEP_SECONDS", 5)


def start() -> None:
    """Start this process's sweep thread (once)."""
    interval = sweep_interval()
    if interval <= 0 or _started.is_set():
        return
    _started.set()
    threading.Thread(target=_run, args=(interval,), name="mola-sweep", daemon=True).start()
    log.info("sweep: every %s s", interval)


def _run(interval: int) -> None:
    stop = threading.Event()
    while not stop.wait(interval):
        for sweep in _sweeps:
            try:
                sweep()
            except Exception:  # a database that is down or restarting: try again next time
                log.warning("sweep failed", exc_info=True)
            finally:
                connections.close_all()  # this thread's own connections
