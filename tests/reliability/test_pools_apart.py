"""The worker pools are apart: a consensus check that never ends holds no retrain back, and
the sweep sends each kind of overdue work to its own pool.

Real processes, as a deployment runs them: one worker of the training pool, one of the
consensus pool (``mola/pools.py``), a web server and a broker of their own. The long check
is a real one — the first check of a batch of 1,000 examples — caught while it runs and
frozen (SIGSTOP): a check of a bulk-imported M space holds its process for minutes.
"""

from __future__ import annotations

import signal
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from consensus.models import ConsensusState
from teaching.models import Outbox, Space, WorkKind
from tests.reliability.conftest import freeze_during_batch, model, space_with_owner
from tests.reliability.processes import kill_group

pytestmark = [pytest.mark.worker, pytest.mark.reliability]

SERVED_SECONDS = 30  # a retrain with a check frozen beside it (it takes ~1 s idle)


def _rule(stack, token: str, threshold: int) -> int:
    status, body, _ = stack.request(
        "POST",
        "/api/v1/spaces/serve/rules",
        {"condition": f"elbow_angle > {threshold}", "label": "high elbow"},
        token=token,
    )
    assert status == 201, body
    return body["teaching_revision"]


def _served_after(stack, token: str, revision: int, within: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < within:
        served = model(stack, token)
        if served["status"] == "ready" and served["teaching_revision"] >= revision:
            return time.monotonic() - started
        time.sleep(0.1)
    pytest.fail(f"revision {revision} not served within {within} s: {served}")


def _checking(space_id: int):
    return Outbox.objects.filter(
        space_id=space_id, kind=WorkKind.CHECK, heartbeat_at__isnull=False
    ).first()


def test_a_check_that_never_ends_does_not_delay_a_retrain(stack):
    stack.start_web()
    stack.start_worker("training", pool="training")
    # One pool alone: /healthz names the queues nobody reads.
    status, health, _ = stack.request("GET", "/healthz")
    assert (status, health["worker"]) == (200, "down"), health
    assert health["queues"] == {"training": 1, "consensus": 0, "celery": 0}, health
    consensus = stack.start_worker("consensus", pool="consensus")
    status, health, _ = stack.request("GET", "/healthz")
    assert (health["worker"], health["queues"]["consensus"]) == ("ok", 1), health
    token = space_with_owner(stack)
    space_id = Space.objects.get(slug="serve").pk

    # Work whose message was lost: the sweep sends each kind to its own pool.
    newest = Space.objects.get(pk=space_id).teaching_revision
    long_ago = timezone.now() - timedelta(minutes=5)
    for kind in (WorkKind.RETRAIN, WorkKind.CHECK):
        Outbox.objects.create(space_id=space_id, kind=kind, revision=newest, since=long_ago)
    deadline = time.monotonic() + 60
    while Outbox.objects.filter(space_id=space_id, since=long_ago).exists():
        assert time.monotonic() < deadline, "the sweep did not send the lost work"
        time.sleep(0.2)
    for name, ours, theirs in (
        ("training", "teaching.retrain_space", "consensus.check"),
        ("consensus", "consensus.check", "teaching.retrain_space"),
    ):
        # Sent is not yet received: the broker hands the task over a moment later.
        deadline = time.monotonic() + 30
        while f"Task {ours}[" not in (log := stack.log_text(name)):
            assert time.monotonic() < deadline, log[-3000:]
            time.sleep(0.2)
        assert f"Task {theirs}[" not in log, log[-3000:]

    idle = _served_after(stack, token, _rule(stack, token, 100), within=60)
    _, batch = freeze_during_batch(
        stack, token, lambda: consensus if _checking(space_id) else None, attempts=4
    )
    revision = _rule(stack, token, 110)
    busy = _served_after(stack, token, revision, within=SERVED_SECONDS)
    print(f"rule served {idle:.2f} s after its write idle, {busy:.2f} s beside a frozen check")
    # The check was running all along: not done, its row still owed.
    checked = ConsensusState.objects.filter(space_id=space_id).first()
    assert checked is None or checked.checked_revision < batch
    assert Outbox.objects.filter(space_id=space_id, kind=WorkKind.CHECK).exists()

    kill_group(consensus, signal.SIGCONT)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        checked = ConsensusState.objects.filter(space_id=space_id).first()
        if checked and checked.checked_revision >= revision:
            break
        time.sleep(0.5)
    else:
        pytest.fail(f"the check did not finish after the worker went on: {checked}")
