"""The fault suite's stack: a web server, workers and a broker of their own, on the test
database (committed rows: the processes are not inside the test's transaction)."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import time
from collections.abc import Callable

import pytest

from tests.factories import PASSWORD, SPACE_FEATURES, SPACE_LABELS
from tests.reliability.processes import Stack, kill_group


@pytest.fixture
def stack(transactional_db, tmp_path):
    # Requested after the database: torn down (every process stopped) before the database
    # is flushed, so no process of ours holds a row the flush wants.
    stack = Stack(tmp_path)
    stack.broker.start()
    yield stack
    stack.stop()


def space_with_owner(stack: Stack, username: str = "olga") -> str:
    """Sign up over HTTP, create the test space; returns the owner's token."""
    status, body, _ = stack.request(
        "POST", "/api/v1/users", {"username": username, "password": PASSWORD}
    )
    assert status == 201, body
    token = body["token"]
    status, body, _ = stack.request(
        "POST",
        "/api/v1/spaces",
        {"slug": "serve", "name": "Serve", "features": SPACE_FEATURES, "labels": SPACE_LABELS},
        token=token,
    )
    assert status == 201, body
    return token


def model(stack: Stack, token: str) -> dict:
    status, body, _ = stack.request("GET", "/api/v1/spaces/serve/model", token=token)
    assert status == 200, body
    return body


def examples(n: int, start: int) -> list[dict]:
    """``n`` examples of the test space, different for each ``start``."""
    kinds = ("float", "jump", "underhand")
    labels = ("toss in front", "high elbow", "no cue")
    return [
        {
            "features": {
                "toss_height_cm": (i * 37) % 150,
                "elbow_angle": 60 + (i * 53) % 120,
                "serve_type": kinds[i % 3],
                "fatigued": i % 7 == 0,
            },
            "label": labels[(i // 3 + (i * 37) % 150 // 50) % 3],
        }
        for i in range(start, start + n)
    ]


def freeze_during_batch(
    stack: Stack,
    token: str,
    busy_worker: Callable[[], subprocess.Popen | None],
    attempts: int = 5,
) -> tuple[subprocess.Popen, int]:
    """Write a batch of 1,000 examples and freeze (SIGSTOP) the worker ``busy_worker`` names
    while it works on it — asked again once frozen, so a worker that had just finished is
    let go and another batch tried; so is one frozen inside a write (``_writes_go_through``).
    Returns (the frozen worker, the batch's revision)."""
    for attempt in range(attempts):
        status, body, _ = stack.request(
            "POST",
            "/api/v1/spaces/serve/examples",
            {"examples": examples(1000, attempt * 1000)},
            token=token,
        )
        assert status == 201, body
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            worker = busy_worker()
            if worker is not None:
                kill_group(worker, signal.SIGSTOP)
                if busy_worker() is worker and _writes_go_through():
                    return worker, body["teaching_revision"]
                kill_group(worker, signal.SIGCONT)  # it had just finished, or was writing
                break
            time.sleep(0.005)
    pytest.fail("never caught a worker at work on a batch")


def _writes_go_through() -> bool:
    """Whether another process can write now. On SQLite a worker frozen inside a write
    transaction holds every writer, the web's too, until it dies (the web waits its 30 s
    busy timeout): seen under load, where a write takes longer. What the tests that freeze
    a worker mean is one frozen at work, not a database frozen with it."""
    from django.db import connection

    if connection.vendor != "sqlite":
        return True
    try:
        probe = sqlite3.connect(connection.settings_dict["NAME"], timeout=0.5)
        try:
            probe.execute("BEGIN IMMEDIATE")
            probe.rollback()
        finally:
            probe.close()
    except sqlite3.OperationalError:
        return False
    return True
