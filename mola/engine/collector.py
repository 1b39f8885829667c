"""Holding Python's cycle collector while a burst of short-lived objects is built.

Building 10,000 explanations, parsing 10,000 instances or reading 100,000 example rows makes
hundreds of thousands of dicts, lists and tuples that hold no cycles and are freed by their
reference counts. Meanwhile the collector would walk the whole heap (every loaded model,
cached example and index) again and again: measured, up to a third of such a request's time,
and its slowest calls. ``paused`` holds it for the duration.

Counted, because ``gc`` is process-wide and threads (a web process's requests) pause and
resume at the same time: the last one out restores what the first one in found.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_pausers = 0
_was_collecting = False


@contextmanager
def paused() -> Iterator[None]:
    global _pausers, _was_collecting
    with _lock:
        if _pausers == 0:
            _was_collecting = gc.isenabled()
            gc.disable()
        _pausers += 1
    try:
        yield
    finally:
        with _lock:
            _pausers -= 1
            if _pausers == 0 and _was_collecting:
                gc.enable()
