"""Real processes for the fault suite: a web server (gunicorn), Celery workers and a broker
of their own (a private redis-server, or a private filesystem broker folder), all on the
test database. Nothing here is shared with the session's worker: these tests kill things.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from mola.pools import POOLS, all_queues_args, worker_args
from tests.worker import ROOT, test_database_url

REDIS = ["redis-server", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
WEB = [sys.executable, "-m", "gunicorn", "mola.wsgi", "--workers=1", "--threads=4"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def uses_redis() -> bool:
    return os.environ.get("CELERY_BROKER_URL", "").startswith("redis://")


class Broker:
    """The stack's own broker: a redis-server on a free port when the suite runs on Redis,
    else a filesystem broker folder. ``stop`` takes it away, ``start`` brings it back."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.redis = uses_redis()
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0" if self.redis else "filesystem://"

    @property
    def queue_folder(self) -> Path:
        return self.data_dir / "broker" / "queue"

    def start(self) -> None:
        if not self.redis:
            parked = self.queue_folder.with_name("queue.parked")
            if parked.exists():
                self.queue_folder.unlink()
                parked.rename(self.queue_folder)
            return
        self.process = subprocess.Popen(
            [*REDIS, "--port", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("the private redis-server did not start")

    def stop(self) -> None:
        """The broker goes away: redis-server is killed; the filesystem broker's queue folder
        becomes a file, so no message can be written (root ignores permissions)."""
        if not self.redis:
            self.queue_folder.rename(self.queue_folder.with_name("queue.parked"))
            self.queue_folder.write_text("broker down")
            return
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


class Stack:
    """A web server and workers on the test database and a private broker."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.broker = Broker(data_dir)
        self.port = free_port()
        self.processes: list[subprocess.Popen] = []
        self.logs: list = []
        self.extra_env: dict[str, str] = {}  # for the processes started from now on

    def env(self, **extra: str) -> dict[str, str]:
        env = {
            **os.environ,
            "DATABASE_URL": test_database_url(),
            "CELERY_BROKER_URL": self.broker.url,
            "MOLA_DATA_DIR": str(self.data_dir),
            "MOLA_SWEEP_SECONDS": "2",
            "CELERY_RESULT_BACKEND": f"file://{self.data_dir / 'results'}",
        }
        env.update(self.extra_env)
        env.update(extra)
        return env

    def _spawn(self, args: list[str], name: str) -> subprocess.Popen:
        log = (self.data_dir / f"{name}.log").open("ab")
        self.logs.append(log)
        process = subprocess.Popen(
            args,
            cwd=ROOT,
            env=self.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: killed with its children
        )
        self.processes.append(process)
        return process

    def start_worker(
        self, name: str, timeout: float = 60, *, pool: str | None = None, concurrency: int = 1
    ) -> subprocess.Popen:
        """A worker named ``name``: of ``pool`` (``mola.pools.POOLS``, as production runs
        it), or consuming every queue when none is given."""
        return self.start_workers([(name, pool, concurrency)], timeout)[name]

    def start_workers(
        self, specs: list[tuple[str, str | None, int]], timeout: float = 90
    ) -> dict[str, subprocess.Popen]:
        """Workers ``(name, pool, concurrency)`` started side by side (each takes seconds to
        start on a loaded machine), once all are ready."""
        started = {}
        for name, pool, concurrency in specs:
            hostname = f"{name}@fault"
            if pool is None:
                args = all_queues_args(hostname=hostname, concurrency=concurrency)
            else:
                args = worker_args(
                    POOLS[pool], hostname=hostname, concurrency=concurrency, python=True
                )
            started[name] = self._spawn(args, name)
        for name, process in started.items():
            self.wait_log(name, "ready.", timeout, process)
        return started

    def start_web(self, timeout: float = 60) -> subprocess.Popen:
        process = self._spawn(
            [*WEB, f"--bind=127.0.0.1:{self.port}"],
            "web",
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"the web server exited: {self.log_text('web')[-2000:]}")
            try:
                urllib.request.urlopen(f"{self.url}/healthz", timeout=5)
                return process
            except urllib.error.HTTPError:
                return process
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("the web server did not answer")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_text(self, name: str) -> str:
        path = self.data_dir / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def wait_log(self, name: str, text: str, timeout: float, process=None) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.log_text(name):
                return
            if process is not None and process.poll() is not None:
                raise RuntimeError(f"{name} exited: {self.log_text(name)[-3000:]}")
            time.sleep(0.1)
        raise RuntimeError(f"{name} did not log {text!r} within {timeout} s")

    def request(self, method: str, path: str, body=None, token: str | None = None, timeout=30):
        """(status, parsed body, seconds) of one HTTP request to the web server."""
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"{self.url}{path}", data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", f"Token {token}")
        started = time.monotonic()
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, raw = error.code, error.read()
        seconds = time.monotonic() - started
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = raw.decode(errors="replace")
        return status, parsed, seconds

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                _signal_group(process, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                _signal_group(process, signal.SIGKILL)
                process.wait(timeout=10)
        for process in self.processes:
            # A group whose leader is gone (killed -9 by a test) may still hold children,
            # and a worker's child left alive would take the next test's work.
            _signal_group(process, signal.SIGKILL)
        if self.broker.redis:
            self.broker.stop()
        for log in self.logs:
            log.close()


def _signal_group(process: subprocess.Popen, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signum)


def kill_group(process: subprocess.Popen, signum: int = signal.SIGKILL) -> None:
    _signal_group(process, signum)
