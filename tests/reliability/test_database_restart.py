"""PostgreSQL restarted under a load of teaching writes: every write that was answered 201 is
stored, with its revision, and the model catches up with no further write.

Restarting the cluster cuts every other connection to it, so the test runs only where it is
asked for (``MOLA_TEST_RESTART_POSTGRES=1``, which ``.ci/run`` sets) and only on PostgreSQL.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time

import pytest
from django.db import connection

from teaching.models import Rule, TeachingRevision
from tests.reliability.conftest import model, space_with_owner

pytestmark = [
    pytest.mark.worker,
    pytest.mark.reliability,
    pytest.mark.postgres,
    pytest.mark.skipif(
        os.environ.get("MOLA_TEST_RESTART_POSTGRES") != "1",
        reason="restarts the shared PostgreSQL: set MOLA_TEST_RESTART_POSTGRES=1",
    ),
]

WRITERS = 4
LOAD_SECONDS = 20
RESTART = ["pg_ctlcluster", "--skip-systemctl-redirect", "15", "main", "restart"]


def _write_until(stack, token, stop: threading.Event, acknowledged: list, failures: list, n):
    i = 0
    while not stop.is_set():
        i += 1
        try:
            status, body, _ = stack.request(
                "POST",
                "/api/v1/spaces/serve/rules",
                {"condition": f"elbow_angle > {60 + (n * 1000 + i) % 119}", "label": "no cue"},
                token=token,
                timeout=30,
            )
        except OSError as error:  # the web server itself never went away, but be exact
            failures.append(str(error))
            continue
        if status == 201:
            acknowledged.append((body["id"], body["teaching_revision"]))
        else:
            failures.append(status)
            time.sleep(0.05)


def test_no_acknowledged_write_is_lost_when_the_database_restarts(stack):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    stack.extra_env["TEACHING_WRITE_RATE"] = ""  # load, not a member's pace: no 429s
    stack.start_worker("worker")
    stack.start_web()
    token = space_with_owner(stack)
    stop, acknowledged, failures = threading.Event(), [], []
    writers = [
        threading.Thread(target=_write_until, args=(stack, token, stop, acknowledged, failures, n))
        for n in range(WRITERS)
    ]
    for writer in writers:
        writer.start()
    time.sleep(LOAD_SECONDS / 3)
    before = len(acknowledged)
    subprocess.run(RESTART, check=True, timeout=120)
    time.sleep(LOAD_SECONDS * 2 / 3)
    stop.set()
    for writer in writers:
        writer.join(timeout=60)
    connection.close()  # ours was cut by the restart too

    after = len(acknowledged) - before
    print(
        f"{len(acknowledged)} writes acknowledged ({before} before the restart, {after} after),"
        f" {len(failures)} refused: {sorted(set(map(str, failures)))}"
    )
    assert before > 0 and after > 0, "the load must span the restart"
    # 503 while the database is away (the client may retry), never a 500 or a lost 201.
    assert all(failure == 503 for failure in failures), sorted(set(map(str, failures)))
    stored = dict(Rule.objects.filter(space__slug="serve").values_list("id", "revision"))
    for rule_id, revision in acknowledged:
        assert stored.get(rule_id) == revision, (rule_id, revision)
        assert TeachingRevision.objects.filter(
            kind="rule", teaching_id=rule_id, revision=revision
        ).exists()
    newest = max(revision for _, revision in acknowledged)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        served = model(stack, token)
        if served["status"] == "ready" and served["teaching_revision"] == newest:
            break
        time.sleep(0.5)
    else:
        pytest.fail(f"the model did not reach revision {newest}: {served}")
