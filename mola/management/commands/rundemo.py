"""``make demo``: migrate, seed the demo community, run the web server and the Celery workers —
and keep them running: a process that dies is logged and started again."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from mola.demo import DEMO_PASSWORD, DEMO_USERS
from mola.pools import POOLS, worker_args

# A process that dies again soon after a restart waits longer before the next one (1 s,
# doubling up to 30 s), so a process that cannot start does not spin; one that ran for a
# minute counts as healthy again.
FIRST_BACKOFF = 1.0
MAX_BACKOFF = 30.0
HEALTHY_AFTER = 60.0


@dataclass
class Supervised:
    """One process the demo keeps running."""

    name: str
    args: list[str]
    process: subprocess.Popen | None = None
    started_at: float = 0.0
    restarts: int = 0
    backoff: float = FIRST_BACKOFF
    restart_at: float | None = None

    def start(self) -> None:
        # Its own process group, so its children (gunicorn's workers, Celery's pool) go
        # with it when it dies, and do not hold the port or the queue against the next one.
        self.process = subprocess.Popen(self.args, start_new_session=True)
        self.started_at = time.monotonic()
        self.restart_at = None

    def signal_group(self, signum: int) -> None:
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signum)


class Command(BaseCommand):
    help = "Run MOLA on this machine: web server + Celery workers, with a seeded demo community."

    def handle(self, *args, **options) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        call_command("seed_demo")
        port = settings.PORT
        host = os.environ.get("HOST", "127.0.0.1")
        # One worker per pool (mola/pools.py), as a deployment runs them: a consensus
        # check never holds a process a retrain waits for.
        processes = [
            Supervised(f"worker-{pool.name}", worker_args(pool, python=True))
            for pool in POOLS.values()
        ] + [
            Supervised(
                "web",
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "mola.wsgi",
                    f"--bind={host}:{port}",
                    "--workers=2",
                    "--threads=4",
                    "--access-logfile=-",
                    "--graceful-timeout=5",
                ],
            ),
        ]
        for supervised in processes:
            supervised.start()
            self._say(f"started {supervised.name} (pid {supervised.process.pid})")
        self._announce(host, port)
        self._supervise(processes)

    def _say(self, message: str) -> None:
        self.stdout.write(f"[demo {time.strftime('%H:%M:%S')}] {message}")
        self.stdout.flush()

    def _announce(self, host: str, port: int) -> None:
        lines = [
            "",
            f"MOLA is running at http://{host}:{port}/  (API docs: /api/docs/, health: /healthz)",
            "Demo logins (password for all: " + DEMO_PASSWORD + "):",
            *(f"  {u.username:<10} {u.description}" for u in DEMO_USERS),
            "Press Ctrl-C to stop the server and the workers.",
            "",
        ]
        self.stdout.write("\n".join(lines))

    def _supervise(self, processes: list[Supervised]) -> None:
        stopping = False

        def stop(signum, frame):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        try:
            while not stopping:
                for supervised in processes:
                    self._keep_running(supervised)
                time.sleep(0.3)
        finally:
            self._stop_all(processes)

    def _keep_running(self, supervised: Supervised) -> None:
        now = time.monotonic()
        if supervised.restart_at is not None:
            if now >= supervised.restart_at:
                supervised.start()
                supervised.restarts += 1
                self._say(
                    f"restarted {supervised.name} (pid {supervised.process.pid}, "
                    f"restart {supervised.restarts})"
                )
            return
        code = supervised.process.poll()
        if code is None:
            return
        supervised.signal_group(signal.SIGKILL)  # what it left behind (pool, workers)
        if now - supervised.started_at >= HEALTHY_AFTER:
            supervised.backoff = FIRST_BACKOFF
        self._say(
            f"{supervised.name} (pid {supervised.process.pid}) exited with code {code}; "
            f"restarting in {supervised.backoff:.0f} s"
        )
        supervised.restart_at = now + supervised.backoff
        supervised.backoff = min(MAX_BACKOFF, supervised.backoff * 2)

    def _stop_all(self, processes: list[Supervised]) -> None:
        for supervised in processes:
            if supervised.process is not None and supervised.process.poll() is None:
                supervised.signal_group(signal.SIGTERM)
        deadline = time.monotonic() + 15
        for supervised in processes:
            if supervised.process is None:
                continue
            try:
                supervised.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                supervised.signal_group(signal.SIGKILL)
            supervised.signal_group(signal.SIGKILL)  # any child still there
        self.stdout.write("MOLA stopped.")
