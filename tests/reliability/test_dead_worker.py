"""A worker killed -9 while it holds a space's training claim: the space is trained up to its
newest revision by another worker within 60 s, with no further write (its claim's heartbeat
stops; the other worker's sweep sends the owed retrain again and takes the claim over)."""

from __future__ import annotations

import os
import signal
import time

import pytest

from teaching.models import TrainingState
from tests.reliability.conftest import freeze_during_batch, model, space_with_owner
from tests.reliability.processes import kill_group

pytestmark = [pytest.mark.worker, pytest.mark.reliability]

RECOVERY_SECONDS = 60


def _holder(workers: dict, claimed_by: str):
    """The worker (process group) whose process ``host:pid`` holds the claim."""
    pid = int(claimed_by.rsplit(":", 1)[1])
    try:
        group = os.getpgid(pid)
    except ProcessLookupError:
        return None
    return next((w for w in workers.values() if w.pid == group), None)


def _training_holder(workers: dict, space_id: int):
    """The worker holding the space's training claim, if one does."""
    state = TrainingState.objects.filter(space_id=space_id).first()
    if state and state.running_since and state.claimed_by:
        return _holder(workers, state.claimed_by)
    return None


def test_a_worker_killed_while_training_leaves_no_space_behind(stack):
    workers = {name: stack.start_worker(name) for name in ("first", "second")}
    stack.start_web()
    token = space_with_owner(stack)
    from teaching.models import Space

    space_id = Space.objects.get(slug="serve").pk

    frozen, batch = freeze_during_batch(stack, token, lambda: _training_holder(workers, space_id))
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
            f" (killed while training revision {batch}), wanted {state.wanted_revision}, trained"
            f" {state.trained_revision}"
        )
    recovered = time.monotonic() - killed_at
    print(f"newest revision served {recovered:.1f} s after the kill")
    status, health, _ = stack.request("GET", "/healthz")
    assert health["backlog"]["overdue"] == 0
