"""What the HTTP benchmarks share: a throwaway data dir, a real web server and a real Celery
worker (both subprocesses), a keep-alive HTTP client, and percentiles (spaces seeded fast from
``bench/synthetic.py``: bench/_seeding.py).

    env = BenchEnv.start(web_workers=1)   # MOLA_DATA_DIR=/tmp/mola-bench-…, migrated
    seeded = seed_space("M")           # bench/_seeding.py: bulk-created rows, a token, a key
    ...
    env.stop()

With no environment the stack is SQLite in the data dir and kombu's filesystem broker, as a
one-machine install runs; DATABASE_URL, CELERY_BROKER_URL and REDIS_URL are passed through
unchanged, so the same scripts run on PostgreSQL and Redis.
"""

from __future__ import annotations

import http.client
import json
import math
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile (0–100), nearest rank on the sorted values."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def median(values: list[float]) -> float:
    ordered = sorted(values)
    if not ordered:
        return math.nan
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def load() -> str:
    """The machine's load averages, for the record."""
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def in_process(name: str, **env_defaults: str) -> None:
    """Django set up in this process on a throwaway data dir (``MOLA_DATA_DIR`` if given),
    migrated: for the benchmarks that call services directly. ``env_defaults``: settings
    the benchmark needs unless the environment says otherwise."""
    os.environ.setdefault("MOLA_DATA_DIR", tempfile.mkdtemp(prefix=f"mola-bench-{name}-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mola.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    for key, value in env_defaults.items():
        os.environ.setdefault(key, value)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _server_cpu(timing: str) -> float | None:
    """The request's CPU seconds in its web thread, from ``Server-Timing: cpu;dur=<ms>``."""
    for part in timing.split(","):
        name, _, duration = part.strip().partition(";dur=")
        if name == "cpu":
            return float(duration) / 1000
    return None


class Http:
    """A keep-alive JSON client for one server; ``server_cpu`` is the last answer's CPU
    time in the web thread that made it (its ``Server-Timing``), or None; ``wire_seconds``
    the last call's time from sending the request to the last byte of the answer, without
    this client's own JSON encoding and decoding (10,000 instances: ~40 ms to encode, and
    up to ~0.1 s to decode a compact answer, which no server change can save)."""

    server_cpu: float | None = None
    wire_seconds: float = 0.0

    def __init__(self, port: int, authorization: str | None = None) -> None:
        self.port = port
        self.authorization = authorization
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

    def call(self, method: str, path: str, body=None) -> tuple[int, object]:
        headers = {"Accept": "application/json"}
        if self.authorization:
            headers["Authorization"] = self.authorization
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        for attempt in range(2):
            try:
                started = time.perf_counter()
                self.conn.request(method, path, body=payload, headers=headers)
                response = self.conn.getresponse()
                raw = response.read()
                self.wire_seconds = time.perf_counter() - started
                break
            except (http.client.HTTPException, ConnectionError):
                self.conn.close()  # the server closed a kept-alive connection: reconnect once
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
                if attempt:
                    raise
        data = json.loads(raw) if raw and raw[:1] in b"{[" else raw
        self.server_cpu = _server_cpu(response.getheader("Server-Timing") or "")
        return response.status, data

    def close(self) -> None:
        self.conn.close()


@dataclass
class BenchEnv:
    data_dir: Path
    port: int
    own_dir: bool
    processes: list[subprocess.Popen] = field(default_factory=list)
    names: list[str] = field(default_factory=list)  # each process's log name
    logs: list = field(default_factory=list)

    @classmethod
    def start(
        cls,
        *,
        web_workers: int = 1,
        celery_concurrency: int = 2,
        consensus: bool = True,
        worker_machines: int = 1,
    ) -> BenchEnv:
        """Migrate a fresh data dir, start the web server and the workers, wait for them.

        The workers are one per pool (``mola/pools.py``), as a deployment runs them, and
        ``worker_machines`` sets of them (as that many machines would run them); the
        training pool has ``celery_concurrency`` processes. ``consensus=False`` sends the
        web server's consensus checks to a queue no worker reads and starts no consensus
        pool, so only retraining runs (the retrain path measured alone).
        """
        own = "MOLA_DATA_DIR" not in os.environ
        data_dir = Path(os.environ.get("MOLA_DATA_DIR") or tempfile.mkdtemp(prefix="mola-bench-"))
        os.environ["MOLA_DATA_DIR"] = str(data_dir)
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mola.settings")
        os.environ.setdefault("LOG_LEVEL", "WARNING")
        import django

        django.setup()
        from django.core.management import call_command

        from mola.pools import POOLS

        call_command("migrate", verbosity=0)
        env = cls(data_dir=data_dir, port=free_port(), own_dir=own)
        try:
            env.start_workers(
                [
                    (pool, celery_concurrency if pool.name == "training" else None, machine)
                    for machine in range(worker_machines)
                    for pool in POOLS.values()
                    if consensus or pool.name == "training"
                ]
            )
            env._start_web(web_workers, consensus)
        except BaseException:
            env.stop()
            raise
        return env

    def _spawn(self, args: list[str], log_name: str) -> subprocess.Popen:
        log = (self.data_dir / log_name).open("ab")
        self.logs.append(log)
        process = subprocess.Popen(
            args, cwd=ROOT, env=dict(os.environ), stdout=log, stderr=subprocess.STDOUT
        )
        self.processes.append(process)
        self.names.append(log_name)
        return process

    def start_workers(self, specs: list, timeout: float = 240) -> list[subprocess.Popen]:
        """Workers ``(pool, concurrency, machine)`` (``mola.pools.Pool``; concurrency None:
        the pool's own), started side by side, once every one answers a ping."""
        from mola.celery import app
        from mola.pools import worker_args

        started = []
        for pool, concurrency, machine in specs:
            name = f"{pool.name}-{machine}-{uuid.uuid4().hex[:6]}@localhost"
            args = worker_args(
                pool, hostname=name, concurrency=concurrency, loglevel="WARNING", python=True
            )
            started.append((name, self._spawn(args, f"worker-{pool.name}-{machine}.log")))
        deadline = time.monotonic() + timeout
        for name, process in started:
            while not app.control.ping(destination=[name], timeout=0.5):
                if process.poll() is not None:
                    raise RuntimeError(f"a worker exited; see {self.data_dir}/worker-*.log")
                if time.monotonic() > deadline:
                    raise RuntimeError("a worker did not answer within the timeout")
        return [process for _, process in started]

    def _start_web(self, workers: int, consensus: bool = True, timeout: float = 60) -> None:
        process = self._spawn(
            [
                *(sys.executable, str(Path(__file__).resolve()), "serve"),
                *([] if consensus else ["--no-consensus"]),
                "mola.wsgi:application",
                *("--bind", f"127.0.0.1:{self.port}", "--workers", str(workers)),
                *("--worker-class", "gthread", "--threads", "4", "--timeout", "120"),
                *("--keep-alive", "30", "--log-level", "warning"),
            ],
            "web.log",
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"the web server exited at start; see {self.data_dir}/web.log")
            try:
                status, _ = Http(self.port).call("GET", "/api/v1/spaces")
                if status in (200, 401, 403):
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError("the web server did not answer within the timeout")

    def client(self, authorization: str | None = None) -> Http:
        return Http(self.port, authorization)

    def stop(self, *, failed: bool = False) -> None:
        """Stop every process; the data dir is removed unless it was given, or on failure
        (its worker-*.log and web.log say what went wrong), or MOLA_BENCH_KEEP is set."""
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        for log in self.logs:
            log.close()
        if failed or os.environ.get("MOLA_BENCH_KEEP"):
            print(f"logs kept in {self.data_dir}", file=sys.stderr)
        elif self.own_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)


def wait_for_revision(
    client: Http, slug: str, revision: int, timeout: float = 300, interval: float = 0.02
) -> tuple[float, dict]:
    """Poll ``GET /model`` until it serves ``revision`` or newer; the time it took and the body.

    Polls every ``interval`` seconds, or every two GET times if longer: on a 2-core machine
    a poller that asks back to back takes a core from the training it waits for (a GET of
    an L space's model costs tens of ms). The GET time is the fastest of this wait's: a GET
    answered while the web process warms the new version up shares its interpreter with
    the warm-up (up to ~75 ms at M under load, 8–14 ms otherwise), and waiting twice that
    before the next poll put ~60–90 ms of the bench's own on the teacher's wait (traced:
    version held → next GET). Fails when the newest version failed at that revision (a
    training error) or on timeout.
    """
    started = time.perf_counter()
    deadline = started + timeout
    fastest = math.inf
    while True:
        asked = time.perf_counter()
        status, body = client.call("GET", f"/api/v1/spaces/{slug}/model")
        took = time.perf_counter() - asked
        fastest = min(fastest, took)
        if status != 200:
            raise RuntimeError(f"GET /model answered {status}: {body}")
        if (body.get("teaching_revision") or 0) >= revision:
            return time.perf_counter() - started, body
        if body.get("status") == "failed":
            raise RuntimeError(f"training failed: {body.get('error')}")
        if time.perf_counter() > deadline:
            state = {k: body.get(k) for k in ("version", "status", "teaching_revision")}
            raise TimeoutError(f"revision {revision} not served after {timeout} s: {state}")
        time.sleep(max(interval, 2 * fastest))


def _serve(argv: list[str]) -> None:
    """gunicorn with ``argv``; ``--no-consensus`` first routes consensus checks nowhere."""
    if argv and argv[0] == "--no-consensus":
        argv = argv[1:]
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mola.settings")
        from mola.celery import app

        # Set in the master before gunicorn forks its workers, so every worker has it.
        from mola.pools import ROUTES

        app.conf.task_routes = {**ROUTES, "consensus.check": {"queue": "bench-no-consumer"}}
    from gunicorn.app.wsgiapp import run

    sys.argv = ["gunicorn", *argv]
    run()


if __name__ == "__main__":
    if sys.argv[1:2] == ["serve"]:
        _serve(sys.argv[2:])
