"""The worker pools as deployed: every task goes to a queue a pool consumes, and the
docker-compose services, ``make demo`` and the tests run the pools ``mola/pools.py`` defines."""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import threading
import time
import uuid
from pathlib import Path

import pytest
import yaml
from celery.app.routes import Router, prepare
from django.conf import settings

from mola.celery import app
from mola.pools import POOLS, nice_for, worker_args, yielding
from tests.worker import ROOT


def _queue_of(task_name: str) -> str:
    # The settings' routes (the tests' fixture sends every task nowhere meanwhile).
    router = Router(prepare(settings.CELERY_TASK_ROUTES), app.amqp.queues, True, app=app)
    return router.route({}, task_name)["queue"].name


def test_each_kind_of_work_has_its_own_queue_and_every_task_a_consumer():
    app.loader.import_default_modules()  # every app's tasks registered
    assert _queue_of("teaching.retrain_space") == "training"
    assert _queue_of("teaching.refine_space") == "training"
    assert _queue_of("consensus.check") == "consensus"
    consumed = {queue for pool in POOLS.values() for queue in pool.queues}
    ours = [name for name in app.tasks if not name.startswith("celery.")]
    assert len(ours) >= 4
    assert {name: _queue_of(name) for name in ours if _queue_of(name) not in consumed} == {}
    # No pool runs checks beside retrains: a long check would hold a retrain back.
    assert not any({"training", "consensus"} <= set(pool.queues) for pool in POOLS.values())


def test_docker_compose_runs_one_service_per_pool_with_its_command():
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    for pool in POOLS.values():
        service = services[f"worker-{pool.name}"]
        assert shlex.split(service["command"]) == worker_args(pool)
        assert f"-d {pool.name}@$$HOSTNAME" in service["healthcheck"]["test"][1]
    assert not [name for name in services if name == "worker"]  # the old single worker


def test_worker_args_are_a_celery_command_line_per_pool():
    args = worker_args(POOLS["consensus"], hostname="c1@box", python=True)
    assert args[1:3] == ["-m", "celery"]
    assert "--queues=consensus,celery" in args and "--hostname=c1@box" in args
    assert "--concurrency=1" in args and "--prefetch-multiplier=1" in args


def _kept_in(module: str, **env: str) -> int:
    """CONSENSUS_INDEXES_KEPT as a process that starts by importing ``module`` has it."""
    import os
    import subprocess
    import sys

    clean = {
        k: v for k, v in os.environ.items() if not k.startswith(("MOLA_PROCESS", "CONSENSUS_"))
    }
    code = (
        f"import {module}, django; django.setup(); from django.conf import settings; "
        "print(settings.CONSENSUS_INDEXES_KEPT)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={**clean, "DJANGO_SETTINGS_MODULE": "mola.settings", **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return int(done.stdout.strip().splitlines()[-1])


def test_a_web_process_keeps_fewer_consensus_indexes_than_a_worker():
    assert _kept_in("mola.wsgi") == 2  # rule previews only, a copy per web process
    assert _kept_in("mola.celery") == 8  # the consensus pool checks
    assert _kept_in("mola.wsgi", CONSENSUS_WEB_INDEXES_KEPT="3") == 3
    assert _kept_in("mola.celery", CONSENSUS_INDEXES_KEPT="5") == 5


def _nice_of(pid: int) -> int:
    # /proc/<pid>/stat: the nice value is the 19th field, counted after the command's ")".
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[16])


def test_yielding_runs_the_work_lower_and_its_questions_in_the_callers_thread():
    caller = threading.get_ident()
    seen = {}

    def work(in_caller):
        seen["thread"] = threading.get_ident()
        seen["nice"] = os.getpriority(os.PRIO_PROCESS, 0)
        seen["asked in"] = in_caller(threading.get_ident)
        return "fitted"

    assert yielding(5, work) == "fitted"
    assert seen["thread"] != caller and seen["asked in"] == caller
    assert seen["nice"] == min(19, os.getpriority(os.PRIO_PROCESS, 0) + 5)
    assert os.getpriority(os.PRIO_PROCESS, 0) < seen["nice"]  # the caller keeps its own

    assert yielding(0, lambda in_caller: threading.get_ident()) == caller  # off: inline


def test_yielding_hands_either_sides_exception_to_the_caller():
    def cancelled(in_caller):
        raise KeyError("gave way")

    with pytest.raises(KeyError, match="gave way"):
        yielding(5, cancelled)

    def asks_badly(in_caller):
        return in_caller(lambda: 1 / 0)

    with pytest.raises(ZeroDivisionError):
        yielding(5, asks_badly)


def test_only_a_process_that_retrains_nothing_runs_lower():
    assert nice_for({"consensus", "celery"}, 10) == 10
    assert nice_for({"training", "consensus", "celery"}, 10) == 0  # the tests' worker
    assert nice_for({"training"}, 10) == 0
    assert nice_for({"consensus"}, 0) == 0
    assert nice_for(set(), 10) == 0


def test_a_consensus_pool_process_runs_at_the_consensus_nice_value(tmp_path):
    env = {**os.environ, "MOLA_SWEEP_SECONDS": "0", "CONSENSUS_NICE": "7"}
    name = f"nice-{uuid.uuid4().hex[:6]}@localhost"
    worker = subprocess.Popen(
        worker_args(POOLS["consensus"], hostname=name, python=True),
        cwd=ROOT,
        env=env,
        stdout=(tmp_path / "worker.log").open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not app.control.ping(destination=[name], timeout=0.5):
            assert worker.poll() is None and time.monotonic() < deadline, "worker did not start"
        children = [
            int(p.name)
            for p in Path("/proc").iterdir()
            if p.name.isdigit() and _parent_of(int(p.name)) == worker.pid
        ]
        assert children, "the pool has its process"
        mine = os.getpriority(os.PRIO_PROCESS, 0)
        assert [_nice_of(pid) for pid in children] == [min(19, mine + 7)] * len(children)
        assert _nice_of(worker.pid) == mine  # the parent only hands out tasks
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()


def _parent_of(pid: int) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (FileNotFoundError, ProcessLookupError):
        return None


def test_yielding_ends_its_work_when_the_caller_stops_waiting():
    # As Celery's soft time limit does: an exception raised in the caller's thread while it
    # waits. The work, asking the caller between its parts, must end, not run on unseen.
    def interrupt(signum, frame):
        raise TimeoutError("soft time limit")

    asked = []

    def work(in_caller):
        for part in range(100):
            asked.append(in_caller(lambda part=part: part))
            time.sleep(0.05)
        return "finished"

    previous = signal.signal(signal.SIGALRM, interrupt)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.3)
        with pytest.raises(TimeoutError):
            yielding(5, work)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    deadline = time.monotonic() + 5
    while any(t.name == "mola-yielding" for t in threading.enumerate()):
        assert time.monotonic() < deadline, "the work went on after its caller left"
        time.sleep(0.05)
    assert 0 < len(asked) < 100
