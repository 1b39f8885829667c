"""Credit for what the model answers: per space and member, how many recent predictions
had an explanation that used the member's teachings.

Counted in the shared cache, never in the database, so predict stays cheap: one ``incr``
per distinct contributor per call, into per-hour buckets that expire after the window
(``CREDIT_WINDOW_HOURS``, 7 days by default). The counts are approximate by design (a
cache may be cleared); they say who the model's answers come from, not who gets paid.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Iterable, Sequence

from django.conf import settings
from django.core.cache import cache

log = logging.getLogger(__name__)

BUCKET_SECONDS = 3600


def window_hours() -> int:
    return int(getattr(settings, "CREDIT_WINDOW_HOURS", 168))


def current_bucket(now: float | None = None) -> int:
    return int((time.time() if now is None else now) // BUCKET_SECONDS)


def credit_key(space_id: int, bucket: int, username: str | None = None) -> str:
    who = "total" if username is None else f"u:{username}"
    return f"mola:credit:{space_id}:{bucket}:{who}"


def _add(key: str, delta: int, timeout: int) -> None:
    # add() creates the counter only if it is missing, so two processes racing on a new
    # bucket both end up counted; incr() is atomic on Redis.
    if not cache.add(key, delta, timeout):
        try:
            cache.incr(key, delta)
        except ValueError:  # expired between add and incr
            cache.set(key, delta, timeout)


def record_predictions(space_id: int, contributors: Sequence[Iterable[str]]) -> None:
    """Count one batch of predictions: ``contributors`` holds one list of usernames per
    prediction (its explanation's contributors). Never raises: credit must not break
    predict."""
    if not contributors:
        return
    try:
        counts = Counter(name for names in contributors for name in set(names) if name)
        bucket = current_bucket()
        timeout = (window_hours() + 1) * BUCKET_SECONDS
        _add(credit_key(space_id, bucket), len(contributors), timeout)
        for username, count in counts.items():
            _add(credit_key(space_id, bucket, username), count, timeout)
    except Exception:  # a cache outage costs the counts, not the answer
        log.warning("could not record prediction credit for space %s", space_id, exc_info=True)
