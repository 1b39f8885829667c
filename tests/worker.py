"""Run a real Celery worker process against the test database, for the tests that need one."""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from pathlib import Path
from urllib.parse import quote

from django.db import connection

from mola.celery import app
from mola.pools import all_queues_args

ROOT = Path(__file__).resolve().parent.parent


def test_database_url() -> str:
    """DATABASE_URL of the database pytest-django created, for the worker process."""
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    auth = quote(s["USER"] or "")
    if s.get("PASSWORD"):
        auth += ":" + quote(s["PASSWORD"])
    host = s["HOST"] or "localhost"
    port = f":{s['PORT']}" if s.get("PORT") else ""
    return f"postgres://{auth}@{host}{port}/{s['NAME']}"


class CeleryWorker:
    def __init__(self) -> None:
        self.name = f"test-{uuid.uuid4().hex[:8]}@localhost"
        self.process: subprocess.Popen | None = None
        self.log = None

    def start(self, timeout: float = 60) -> None:
        app.control.purge()  # tasks left by earlier runs refer to rows that are gone
        # No sweep unless a test asks (MOLA_SWEEP_SECONDS in its environment): this worker
        # lives through the whole session, and its sweep would take the overdue work of a
        # reliability test's own stack (same database) and do it behind that stack's back.
        env = {"MOLA_SWEEP_SECONDS": "0", **os.environ, "DATABASE_URL": test_database_url()}
        log_path = Path(os.environ.get("MOLA_DATA_DIR", ROOT / "data")) / "worker.log"
        self.log_path = log_path
        self.log = log_path.open("ab")
        self.process = subprocess.Popen(
            # Every queue, so a test sees its retrains, refines and checks done.
            all_queues_args(hostname=self.name, concurrency=2),
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("the Celery worker exited at start; see worker.log")
            if app.control.ping(destination=[self.name], timeout=0.5):
                return
        raise RuntimeError("the Celery worker did not answer within the timeout")

    def wait_idle(self, timeout: float = 30) -> None:
        """Drop queued tasks, revoke those waiting on a countdown (a refine, a claim's
        follow-up) and wait until none runs: a task left over would meet the next test's
        teardown."""
        app.control.purge()
        inspect = app.control.inspect(destination=[self.name], timeout=1)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            waiting = inspect.scheduled() or {}
            for entry in (e for entries in waiting.values() for e in entries):
                app.control.revoke(entry["request"]["id"])
            busy = [inspect.active(), inspect.reserved()]
            if all(answer is not None for answer in busy) and not any(
                tasks for answer in busy for tasks in answer.values()
            ):
                return
            time.sleep(0.1)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
        if self.log:
            self.log.close()


def wait_for(predicate, timeout: float = 30, interval: float = 0.05):
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s")
