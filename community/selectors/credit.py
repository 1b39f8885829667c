"""Reading the prediction credit counted by ``community.services.credit``."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.cache import cache

from community.services.credit import credit_key, current_bucket, flush, window_hours


def prediction_counts(
    *, space_id: int, usernames: Iterable[str], now: float | None = None
) -> tuple[int, dict[str, int]]:
    """Predictions in the window, and per username how many used their teachings.

    Reads the totals of every hour first and the members' counters only for the hours that
    had predictions, so a quiet space costs one ``get_many``. This process's counts not yet
    flushed to the cache are flushed first: a member who just predicted here sees them.
    """
    flush()
    last = current_bucket(now)
    buckets = range(last - window_hours() + 1, last + 1)
    totals = cache.get_many([credit_key(space_id, b) for b in buckets])
    total = sum(int(v) for v in totals.values())
    names = list(usernames)
    counts = dict.fromkeys(names, 0)
    busy = [b for b in buckets if credit_key(space_id, b) in totals]
    if not busy or not names:
        return total, counts
    keys = {credit_key(space_id, b, name): name for b in busy for name in names}
    for key, value in cache.get_many(list(keys)).items():
        counts[keys[key]] += int(value)
    return total, counts
