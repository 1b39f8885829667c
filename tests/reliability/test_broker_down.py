"""The broker goes down: teaching writes still answer 201 at once (the work waits in the
outbox, not in the request), /healthz says so, and once the broker is back the model is
trained up to the newest revision with no further write (the workers' sweep sends it)."""

from __future__ import annotations

import statistics
import time

import pytest

from tests.reliability.conftest import model, space_with_owner

pytestmark = [pytest.mark.worker, pytest.mark.reliability]

WRITE_SECONDS = 1.0  # the contract for a write with the broker down
CATCH_UP_SECONDS = 60


def _writes(stack, token: str, *, start: int, n: int = 10) -> tuple[list[float], int]:
    """``n`` rule writes: their durations in seconds, and the last revision."""
    timings, revision = [], 0
    for i in range(n):
        status, body, seconds = stack.request(
            "POST",
            "/api/v1/spaces/serve/rules",
            {"condition": f"elbow_angle > {start + i}", "label": "high elbow"},
            token=token,
            timeout=60,
        )
        assert status == 201, body
        timings.append(seconds)
        revision = body["teaching_revision"]
    return timings, revision


def _served(stack, token: str, revision: int, *, within: float) -> None:
    started = time.monotonic()
    while time.monotonic() - started < within:
        served = model(stack, token)
        if served["status"] == "ready" and served["teaching_revision"] == revision:
            return
        time.sleep(0.5)
    pytest.fail(f"revision {revision} not served within {within} s: {served}")


def test_writes_answer_at_once_with_the_broker_down_and_train_once_it_is_back(stack):
    stack.start_worker("worker")
    stack.start_web()
    token = space_with_owner(stack)
    status, body, _ = stack.request(
        "POST",
        "/api/v1/spaces/serve/rules",
        {"condition": "toss_height_cm > 100", "label": "no cue"},
        token=token,
    )
    assert status == 201, body
    _served(stack, token, body["teaching_revision"], within=60)
    up, _ = _writes(stack, token, start=70)
    stack.broker.stop()

    down, newest = _writes(stack, token, start=90)
    print(
        f"writes: median {statistics.median(up) * 1000:.0f} ms with the broker up,"
        f" {statistics.median(down) * 1000:.0f} ms (max {max(down) * 1000:.0f}) with it down"
    )
    assert max(down) < WRITE_SECONDS, down

    status, health, _ = stack.request("GET", "/healthz")
    assert status == 200
    assert health["broker"] == "down"
    assert health["backlog"]["pending"] >= 1
    assert model(stack, token)["teaching_revision"] != newest

    stack.broker.start()
    back = time.monotonic()
    _served(stack, token, newest, within=CATCH_UP_SECONDS)
    print(f"newest revision served {time.monotonic() - back:.1f} s after the broker came back")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # the consensus check is owed too
        status, health, _ = stack.request("GET", "/healthz")
        if health["broker"] == "ok" and health["backlog"]["pending"] == 0:
            break
        time.sleep(0.5)
    assert health["broker"] == "ok" and health["backlog"]["pending"] == 0, health
