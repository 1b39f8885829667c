"""A bounded least-recently-used map, safe to share between threads: the one way the
project keeps things per process (loaded models, compiled conditions, pool matrices,
consensus indexes…) without letting them grow.

Each operation is atomic under the map's own lock; a caller that must do several as one
(read, then compute, then store, under a per-space lock…) still holds its own lock around
them. In the engine, the lowest layer, so that the engine's caches and every app's can use
it. Not ``functools.lru_cache``: the caches here are keyed by values the caller computes,
are cleared or read without being refreshed, and some must hear of what they drop.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class LRU(Generic[K, V]):
    """At most ``size`` entries; storing one more forgets the least recently used (stored or
    got) first, and ``on_evict(key, value)`` hears of each entry it forgets (not of ``pop``
    or ``clear``), under the map's lock. ``size`` may be a function, asked at each store
    (a setting that may change while the process runs)."""

    def __init__(
        self, size: int | Callable[[], int], on_evict: Callable[[K, V], None] | None = None
    ) -> None:
        if not callable(size) and size < 1:
            raise ValueError(f"an LRU keeps at least one entry, not {size}")
        self._size = size
        self._entries: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()
        self._on_evict = on_evict

    def get(self, key: K, default: V | None = None) -> V | None:
        """The entry of ``key`` (now the most recently used), or ``default``."""
        with self._lock:
            if key not in self._entries:
                return default
            self._entries.move_to_end(key)
            return self._entries[key]

    def peek(self, key: K, default: V | None = None) -> V | None:
        """The entry of ``key``, or ``default``, leaving its place in the order as it is."""
        with self._lock:
            return self._entries.get(key, default)

    def put(self, key: K, value: V) -> None:
        """Store ``value`` as the most recently used; forget the least recently used beyond
        ``size``."""
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                dropped, gone = self._entries.popitem(last=False)
                if self._on_evict is not None:
                    self._on_evict(dropped, gone)

    @property
    def size(self) -> int:
        return max(1, self._size()) if callable(self._size) else self._size

    def pop(self, key: K, default: V | None = None) -> V | None:
        """Remove and return the entry of ``key``, or ``default``."""
        with self._lock:
            return self._entries.pop(key, default)

    def pop_oldest(self) -> tuple[K, V]:
        """Remove and return the least recently used entry (KeyError when empty)."""
        with self._lock:
            if not self._entries:
                raise KeyError("pop_oldest from an empty LRU")
            return self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def keys(self) -> list[K]:
        """The keys, least recently used first (a copy)."""
        with self._lock:
            return list(self._entries)

    def items(self) -> list[tuple[K, V]]:
        """The entries, least recently used first (a copy)."""
        with self._lock:
            return list(self._entries.items())

    def __iter__(self) -> Iterator[K]:
        """The keys, least recently used first (of a copy)."""
        return iter(self.keys())

    def __contains__(self, key: object) -> bool:
        with self._lock:
            return key in self._entries

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def __bool__(self) -> bool:
        return len(self) > 0
