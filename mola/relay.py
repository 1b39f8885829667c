"""Send Celery tasks without ever making the caller wait for the broker.

A teaching write records the work it needs in its own transaction (``teaching.models.Outbox``);
after commit it hands the task to this relay and answers. One daemon thread per process
publishes what it is handed. When the broker is down a send fails fast (no publish retries)
and is dropped with one warning per outage: the work is still in the outbox, and the
worker's sweep sends it again once the broker is back. Before this, a write with the broker
down waited ~38 s in kombu's publish retries before its 201, holding a web thread.

Sends of the same task with the same arguments still waiting in the queue are sent once.
With ``task_always_eager`` (tests that run tasks in-process) the task runs at once, here.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import Any

from mola.celery import app
from mola.engine.lru import LRU

log = logging.getLogger(__name__)

QUEUE_LIMIT = 10_000  # sends waiting at most; past it the oldest are dropped (the sweep resends)


class _Relay:
    def __init__(self) -> None:
        # The sends waiting, oldest first; a send made again moves to the back, and past
        # QUEUE_LIMIT the oldest is dropped.
        self._waiting: LRU[tuple, tuple[Any, tuple, dict, dict]] = LRU(QUEUE_LIMIT)
        self._lock = threading.Lock()
        self._ready = threading.Condition(self._lock)
        self._thread: threading.Thread | None = None
        self._pid = 0
        self._busy = False
        self.failing_since: float | None = None  # monotonic time of the first failed send

    def send(self, task, args: tuple = (), kwargs: dict | None = None, **options: Any) -> None:
        kwargs = kwargs or {}
        if app.conf.task_always_eager:
            task.apply_async(args, kwargs, **options)
            return
        key = (task.name, repr(args), repr(sorted(kwargs.items())), repr(sorted(options.items())))
        with self._lock:
            self._start_if_needed()
            self._waiting.put(key, (task, args, kwargs, options))
            self._ready.notify()

    def _start_if_needed(self) -> None:
        # After a fork (gunicorn, Celery's pool) the parent's thread does not exist here.
        if self._thread is None or self._pid != os.getpid() or not self._thread.is_alive():
            if self._pid != os.getpid():
                self._waiting.clear()  # the parent's sends, the parent sends them
            self._pid = os.getpid()
            self._thread = threading.Thread(target=self._run, name="mola-relay", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            with self._lock:
                while not self._waiting:
                    self._ready.wait()
                _, (task, args, kwargs, options) = self._waiting.pop_oldest()
                self._busy = True
            try:
                self._publish(task, args, kwargs, options)
            finally:
                self._busy = False

    def _publish(self, task, args, kwargs, options) -> None:
        try:
            task.apply_async(args, kwargs, retry=False, **options)
        except Exception as error:
            if self.failing_since is None:
                self.failing_since = time.monotonic()
                log.warning("broker unavailable (%s): %s not sent; the sweep resends", error, task)
            return
        if self.failing_since is not None:
            log.warning(
                "broker back after %.0f s of failed sends", time.monotonic() - self.failing_since
            )
            self.failing_since = None

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until nothing is waiting to be sent (tests, shutdown); False on timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if not self._waiting and not self._busy:
                    return True
            time.sleep(0.01)
        return False


_relay = _Relay()


def send(task, args: tuple = (), kwargs: dict | None = None, **options: Any) -> None:
    """Publish ``task`` soon, from this process's relay thread; never blocks, never raises."""
    try:
        _relay.send(task, args, kwargs, **options)
    except Exception:  # an eager task that failed: its own retries and the sweep handle it
        log.exception("could not run %s", task)


def flush(timeout: float = 5.0) -> bool:
    return _relay.flush(timeout)
