"""A sample of what clients ask a space's model, so consensus can weigh an overlap by traffic.

Issue #5 asks that a contradiction's severity grow with the recent predictions falling in
its overlap. Predict notes a few of each call's instances (at most ``SAMPLE_PER_CALL``,
spread evenly over a batch, so one huge batch does not drown every other client) in process
memory; a ``FlushingBuffer`` appends them about once a second to one list per space in the
shared cache, which keeps the newest ``RECENT_MAX``. Concurrent flushes from two processes
may drop a few rows: it is a sample, and the cache may be cleared; nothing depends on it
being complete.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from django.core.cache import cache

from mola.buffered import FlushingBuffer

RECENT_MAX = 500
SAMPLE_PER_CALL = 5
KEEP_SECONDS = 7 * 24 * 3600


def recent_inputs_key(space_id: int) -> str:
    return f"mola:recent-inputs:{space_id}"


def _write(batch: list[tuple[int, dict[str, Any]]]) -> None:
    rows_by_space: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for space_id, row in batch:
        rows_by_space[space_id].append(row)
    for space_id, rows in rows_by_space.items():
        key = recent_inputs_key(space_id)
        kept = (cache.get(key) or []) + rows
        cache.set(key, kept[-RECENT_MAX:], KEEP_SECONDS)


_buffer: FlushingBuffer[tuple[int, dict[str, Any]]] = FlushingBuffer(
    _write, name="recent prediction inputs"
)


def inputs_record(*, space_id: int, rows: Sequence[dict[str, Any]]) -> None:
    """Note a sample of one predict call's (valid) instances. In memory; never raises."""
    step = max(1, len(rows) // SAMPLE_PER_CALL)
    _buffer.add(*((space_id, rows[i]) for i in range(0, len(rows), step)[:SAMPLE_PER_CALL]))


def flush() -> None:
    _buffer.flush()
