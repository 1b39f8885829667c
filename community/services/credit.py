"""Credit for what the model answers: per space and member, how many recent predictions
had an explanation that used the member's teachings.

Counted in the shared cache, never in the database, into per-hour buckets that expire after
the window (``CREDIT_WINDOW_HOURS``, 7 days by default). The counts are approximate by
design (a cache may be cleared); they say who the model's answers come from, not who gets
paid.

Predict only adds to counters in this process's memory: a mid-size model credits ~50
people per answer, and one cache write each (a file rename on the default file cache) cost
a one-instance call ~100 ms. A timer flushes them to the cache at most ``FLUSH_SECONDS``
after the first count (so other processes see them within about a second), and so do
process exit and ``flush()``, which the readers call first so that this process's own
counts are never missing from what it reads.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from collections import Counter
from collections.abc import Iterable, Sequence

from django.conf import settings
from django.core.cache import cache

log = logging.getLogger(__name__)

BUCKET_SECONDS = 3600
FLUSH_SECONDS = 1.0

# (space id, hour bucket, username or None for the total) → count not yet in the cache.
_pending: Counter[tuple[int, int, str | None]] = Counter()
_pending_lock = threading.Lock()  # guards _pending and _timer; never held over cache I/O
_flush_lock = threading.Lock()  # one flush at a time, so a reader's flush waits for the timer's
_timer: threading.Timer | None = None


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
        counts = Counter(name for names in contributors for name in set(names) if name)
        bucket = current_bucket()
        with _pending_lock:
            _pending[(space_id, bucket, None)] += len(contributors)
            for username, count in counts.items():
                _pending[(space_id, bucket, username)] += count
            _arm_timer()
    except Exception:
        log.warning("could not record prediction credit for space %s", space_id, exc_info=True)


def flush() -> None:
    """Add this process's pending counts to the shared cache. Never raises: on a cache
    outage the pending counts are lost (logged), not retried forever."""
    global _timer
    with _flush_lock:
        with _pending_lock:
            batch = list(_pending.items())
            _pending.clear()
            if _timer is not None:
                _timer.cancel()  # harmless when it is the timer itself that is flushing
                _timer = None
        if not batch:
            return
        timeout = (window_hours() + 1) * BUCKET_SECONDS
        try:
            # Totals were counted first, so each hour's total is written before its members'.
            for (space_id, bucket, username), count in batch:
                _add(credit_key(space_id, bucket, username), count, timeout)
        except Exception:  # a cache outage costs the counts, not the answer
            log.warning("could not write %s prediction credit counters", len(batch), exc_info=True)


def _arm_timer() -> None:
    """Schedule a flush unless one is scheduled; call with ``_pending_lock`` held."""
    global _timer
    if _timer is None:
        _timer = threading.Timer(FLUSH_SECONDS, flush)
        _timer.daemon = True
        _timer.start()


def _add(key: str, delta: int, timeout: int) -> None:
    # add() creates the counter only if it is missing, so two processes racing on a new
    # bucket both end up counted; incr() is atomic on Redis.
    if not cache.add(key, delta, timeout):
        try:
            cache.incr(key, delta)
        except ValueError:  # expired between add and incr
            cache.set(key, delta, timeout)


def _forget_after_fork() -> None:
    # A forked child (a gunicorn or Celery worker) must not flush its parent's counts a
    # second time, and must not inherit a lock some parent thread held at the fork.
    global _pending_lock, _flush_lock, _timer
    _pending.clear()
    _pending_lock, _flush_lock, _timer = threading.Lock(), threading.Lock(), None


os.register_at_fork(after_in_child=_forget_after_fork)
atexit.register(flush)
