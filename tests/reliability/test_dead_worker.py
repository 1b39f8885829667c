"""A worker killed -9 while it holds a space's training claim: the space is trained up to its
newest revision by another worker within 60 s, with no further write (its claim's heartbeat
stops; the other worker's sweep sends the owed retrain again and takes the claim over)."""

from __future__ import annotations

import os
import signal
import time

import pytest

from teaching.models import TrainingState
from tests.reliability.conftest import model, space_with_owner
from tests.reliability.processes import kill_group

pytestmark = [pytest.mark.worker, pytest.mark.reliability]

RECOVERY_SECONDS = 60


def _examples(n: int, start: int) -> list[dict]:
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


def _holder(workers: dict, claimed_by: str):
    """The worker (process group) whose process ``host:pid`` holds the claim."""
    pid = int(claimed_by.rsplit(":", 1)[1])
    try:
        group = os.getpgid(pid)
    except ProcessLookupError:
        return None
    return next((w for w in workers.values() if w.pid == group), None)


def _catch_a_training(stack, token, workers, space_id, attempts: int = 5):
    """Write a large batch and freeze the worker that claims its training, while it holds
    the claim. Returns (frozen worker, its claim)."""
    for attempt in range(attempts):
        status, body, _ = stack.request(
            "POST",
            "/api/v1/spaces/serve/examples",
            {"examples": _examples(1000, attempt * 1000)},
            token=token,
        )
        assert status == 201, body
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            state = TrainingState.objects.filter(space_id=space_id).first()
            if state and state.running_since and state.claimed_by:
                worker = _holder(workers, state.claimed_by)
                if worker is not None:
                    kill_group(worker, signal.SIGSTOP)
                    state.refresh_from_db()
                    if state.running_since and _holder(workers, state.claimed_by) is worker:
                        return worker, state.running_since
                    kill_group(worker, signal.SIGCONT)  # it had finished: try again
            time.sleep(0.005)
    pytest.fail("never caught a worker holding a training claim")


def test_a_worker_killed_while_training_leaves_no_space_behind(stack):
    workers = {name: stack.start_worker(name) for name in ("first", "second")}
    stack.start_web()
    token = space_with_owner(stack)
    from teaching.models import Space

    space_id = Space.objects.get(slug="serve").pk

    frozen, claim = _catch_a_training(stack, token, workers, space_id)
    # A write while the claim is held: its retrain finds the space claimed and leaves it to
    # the holder — which is about to die.
    status, body, _ = stack.request(
        "POST",
        "/api/v1/spaces/serve/rules",
        {"condition": "toss_height_cm > 140", "label": "no cue"},
        token=token,
    )
    assert status == 201, body
    newest = body["teaching_revision"]
    kill_group(frozen, signal.SIGKILL)
    frozen.wait(timeout=10)
    killed_at = time.monotonic()

    while time.monotonic() - killed_at < RECOVERY_SECONDS:
        served = model(stack, token)
        if served["status"] == "ready" and served["teaching_revision"] == newest:
            break
        time.sleep(0.5)
    else:
        state = TrainingState.objects.get(space_id=space_id)
        pytest.fail(
            f"not trained {RECOVERY_SECONDS} s after the kill: {served}, claim {state.running_since}"
            f" (killed one: {claim}), wanted {state.wanted_revision}, trained"
            f" {state.trained_revision}"
        )
    recovered = time.monotonic() - killed_at
    print(f"newest revision served {recovered:.1f} s after the kill")
    status, health, _ = stack.request("GET", "/healthz")
    assert health["backlog"]["overdue"] == 0
