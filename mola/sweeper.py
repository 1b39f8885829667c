"""The sweep thread every Celery worker runs: overdue work is sent again (``outbox.sweep``).

Started when the worker is ready (``mola.celery``), in the worker's main process, so it
lives as long as the worker and needs no process of its own (``make demo``, docker-compose
and the tests' workers all have it). Several workers sweeping at once send each row once.
``MOLA_SWEEP_SECONDS`` sets the interval; 0 turns the sweep off.
"""

from __future__ import annotations

import logging
import threading

from django.db import connections

from mola.env import env_int

log = logging.getLogger(__name__)

_started = threading.Event()


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
    from teaching.services.outbox import sweep

    stop = threading.Event()
    while not stop.wait(interval):
        try:
            sweep()
        except Exception:  # a database that is down or restarting: try again next time
            log.warning("sweep failed", exc_info=True)
        finally:
            connections.close_all()  # this thread's own connections
