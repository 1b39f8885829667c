"""Where a training's time goes: wall and CPU seconds per stage, for ``ModelVersion.timings``.

Wall time is what a teacher waits; CPU time is what the training itself cost (this process,
all its threads). On a shared machine the two differ by the neighbours' load, so both are
kept: ``timings`` holds each stage's wall seconds and ``timings["cpu"]`` the same stages'
CPU seconds (bench/retrain.py prints both).
"""

from __future__ import annotations

import time
from typing import Any


class Stages:
    """A stopwatch of named stages: ``lap(name)`` ends the stage under way (a name given
    twice adds up)."""

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self._wall, self._cpu = self.started, time.process_time()
        self.wall: dict[str, float] = {}
        self.cpu: dict[str, float] = {}

    def lap(self, name: str) -> None:
        wall, cpu = time.perf_counter(), time.process_time()
        self.wall[name] = self.wall.get(name, 0.0) + wall - self._wall
        self.cpu[name] = self.cpu.get(name, 0.0) + cpu - self._cpu
        self._wall, self._cpu = wall, cpu

    def elapsed(self) -> float:
        """Wall seconds since the stopwatch started."""
        return time.perf_counter() - self.started

    def timings(self, **waited: float) -> dict[str, Any]:
        """Each stage's wall seconds, ``waited`` ones (before the stopwatch started: the
        queue, a refine's delay) as given, and the stages' CPU seconds under "cpu"."""
        return {
            **{name: round(seconds, 6) for name, seconds in waited.items()},
            **{name: round(seconds, 6) for name, seconds in self.wall.items()},
            "cpu": {name: round(seconds, 6) for name, seconds in self.cpu.items()},
        }
