"""Who is on the other end: the client's address, and fixed-window counters keyed by it.

``X-Forwarded-For`` is written by whoever sends the request, so it is believed only as far
as the proxies in ``TRUSTED_PROXIES`` wrote it: walking it from the right, the first address
that is not a trusted proxy is the client's. With no trusted proxies (the default) the
client is the connection's own address. Rotating the header used to get a fresh signup
allowance per request.
"""

from __future__ import annotations

import contextlib
import hashlib
import ipaddress
import math
import time
from functools import cache

from django.conf import settings
from django.core.cache import cache as shared_cache


@cache
def _trusted() -> tuple:
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in settings.TRUSTED_PROXIES)


def _is_trusted(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return any(ip in network for network in _trusted())


def client_address(request) -> str:
    """The address of the client that sent ``request`` (see the module docstring)."""
    address = request.META.get("REMOTE_ADDR", "") or "unknown"
    if not _is_trusted(address):
        return address
    forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    for hop in reversed([a for a in forwarded if a]):
        if not _is_trusted(hop):
            return hop
        address = hop
    return address


_SECONDS = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60}
_SECONDS |= {"h": 3600, "hour": 3600, "d": 86400, "day": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """``"10/15min"``-style rates (``RATE``): (count, seconds)."""
    count, _, period = rate.partition("/")
    digits = "".join(c for c in period if c.isdigit()) or "1"
    unit = period[len(digits) :] if period.startswith(digits) else period
    return int(count), int(digits) * _SECONDS[unit]


def limit_reached(name: str, key: str, rate: str, *, count: bool = True) -> int:
    """Count one event of ``name`` for ``key`` (unless ``count`` is false) in a fixed window
    of ``rate`` (e.g. ``"10/15min"``); returns 0 while within it, else the seconds until
    the window ends. An empty rate never limits; a broken cache never blocks anyone."""
    if not rate:
        return 0
    allowed, window = parse_rate(rate)
    now = time.time()
    start = int(now // window) * window
    cache_key = _limit_key(name, key, start)
    try:
        if count:
            shared_cache.add(cache_key, 0, timeout=window + 5)
            seen = shared_cache.incr(cache_key)
        else:
            seen = shared_cache.get(cache_key, 0)
    except Exception:
        return 0
    limited = seen > allowed if count else seen >= allowed
    return max(1, math.ceil(start + window - now)) if limited else 0


def limit_clear(name: str, key: str, rate: str) -> None:
    if not rate:
        return
    _, window = parse_rate(rate)
    start = int(time.time() // window) * window
    with contextlib.suppress(Exception):  # a broken cache forgets nothing worse
        shared_cache.delete(_limit_key(name, key, start))


def _limit_key(name: str, key: str, start: int) -> str:
    """The key hashed: a username or address may hold spaces, any character and 150 of
    them, which memcached refuses in a key (found by the schema fuzz test)."""
    digest = hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()
    return f"limit:{name}:{digest}:{start}"
