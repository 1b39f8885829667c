"""One lock per key (a space, most often), made on first use and kept: work on one space
waits only for work on the same space. Safe to share between threads."""

from __future__ import annotations

import threading
from collections.abc import Hashable


class KeyedLocks:
    def __init__(self) -> None:
        self._locks: dict[Hashable, threading.Lock] = {}
        self._registry = threading.Lock()  # guards the dict, never held while working

    def __call__(self, key: Hashable) -> threading.Lock:
        """The lock of ``key`` (the same object for every caller)."""
        with self._registry:
            return self._locks.setdefault(key, threading.Lock())
