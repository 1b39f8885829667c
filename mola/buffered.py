"""Work a request adds to process memory and a timer writes out in batches.

Predict must stay a few milliseconds, so what it notes for others (credit counters, a sample
of recent inputs) is kept in this process and written to the shared cache by a timer at
most ``every`` seconds after the first note, at process exit, and whenever a reader calls
``flush()`` first so that this process's own notes are never missing from what it reads.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")


class FlushingBuffer(Generic[T]):
    """Items added by any thread, handed in batches to ``write`` (never concurrently).

    ``write`` may raise: the batch is then lost and logged (a cache outage costs the notes,
    never the request that made them, and is not retried forever).
    """

    def __init__(self, write: Callable[[list[T]], None], *, every: float = 1.0, name: str):
        self.write = write
        self.every = every
        self.name = name
        self._reset()
        os.register_at_fork(after_in_child=self._reset)
        atexit.register(self.flush)

    def _reset(self) -> None:
        # A forked child (a gunicorn or Celery worker) must not write its parent's items a
        # second time, nor inherit a lock some parent thread held at the fork.
        self._items: list[T] = []
        self._items_lock = threading.Lock()  # guards _items and _timer; never held over I/O
        self._write_lock = threading.Lock()  # one write at a time, so flush() waits for a timer's
        self._timer: threading.Timer | None = None

    def add(self, *items: T) -> None:
        """Keep ``items`` for the next write. Never raises."""
        try:
            with self._items_lock:
                self._items.extend(items)
                if self._timer is None:
                    self._timer = threading.Timer(self.every, self.flush)
                    self._timer.daemon = True
                    self._timer.start()
        except Exception:
            log.warning("could not buffer %s", self.name, exc_info=True)

    def flush(self) -> None:
        """Write everything added so far. Never raises."""
        with self._write_lock:
            with self._items_lock:
                batch, self._items = self._items, []
                if self._timer is not None:
                    self._timer.cancel()  # harmless when it is the timer itself that flushes
                    self._timer = None
            if not batch:
                return
            try:
                self.write(batch)
            except Exception:
                log.warning("could not write %s %s", len(batch), self.name, exc_info=True)
