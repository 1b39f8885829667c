"""Credit for what the model answers: per space and member, how many recent predictions
had an explanation that used the member's teachings.

Counted in the shared cache, never in the database, into per-hour buckets that expire after
the window (``CREDIT_WINDOW_HOURS``, 7 days by default). The counts are approximate by
design (a cache may be cleared); they say who the model's answers come from, not who gets
paid.

Predict only notes its counts in this process's memory: a mid-size model credits ~50
people per answer, and one cache write each (a file rename on the default file cache) cost
a one-instance call ~100 ms. A ``FlushingBuffer`` adds them up and writes them to the cache
about once a second, at process exit, and whenever a reader calls ``flush()`` first.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from itertools import chain

from django.conf import settings
from django.core.cache import cache

from mola.buffered import FlushingBuffer

log = logging.getLogger(__name__)

BUCKET_SECONDS = 3600


def window_hours() -> int:
    return int(getattr(settings, "CREDIT_WINDOW_HOURS", 168))


def current_bucket(now: float | None = None) -> int:
    return int((time.time() if now is None else now) // BUCKET_SECONDS)


def credit_key(space_id: int, bucket: int, username: str | None = None) -> str:
    who = "total" if username is None else f"u:{username}"
    return f"mola:credit:{space_id}:{bucket}:{who}"


def record_predictions(space_id: int, contributors: Sequence[Iterable[str]]) -> None:
    """Count one batch of predictions: ``contributors`` holds one list of usernames per
    prediction (its explanation's contributors). In memory only; never raises: credit must
    not break predict."""
    if not contributors:
        return
    try:
        counts = Counter(chain.from_iterable(map(set, contributors)))
        counts.pop("", None)
        _buffer.add((space_id, current_bucket(), len(contributors), counts))
    except Exception:
        log.warning("could not record prediction credit for space %s", space_id, exc_info=True)


def flush() -> None:
    """Add this process's noted counts to the shared cache. Never raises: on a cache outage
    they are lost (logged), not retried forever."""
    _buffer.flush()


def _write(batch: list[tuple[int, int, int, Counter]]) -> None:
    # Summed first: one cache increment per counter, however many calls were noted.
    totals: Counter[tuple[int, int, str | None]] = Counter()
    for space_id, bucket, predictions, counts in batch:
        totals[(space_id, bucket, None)] += predictions
        for username, count in counts.items():
            totals[(space_id, bucket, username)] += count
    timeout = (window_hours() + 1) * BUCKET_SECONDS
    # Totals were counted first, so each hour's total is written before its members'.
    for (space_id, bucket, username), count in totals.items():
        _add(credit_key(space_id, bucket, username), count, timeout)


def _add(key: str, delta: int, timeout: int) -> None:
    # add() creates the counter only if it is missing, so two processes racing on a new
    # bucket both end up counted; incr() is atomic on Redis.
    if not cache.add(key, delta, timeout):
        try:
            cache.incr(key, delta)
        except ValueError:  # expired between add and incr
            cache.set(key, delta, timeout)


_buffer: FlushingBuffer[tuple[int, int, int, Counter]] = FlushingBuffer(
    _write, name="prediction credit counters"
)
