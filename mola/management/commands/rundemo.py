"""``make demo``: migrate, seed the demo community, run the web server and a Celery worker."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from mola.demo import DEMO_PASSWORD, DEMO_USERS


class Command(BaseCommand):
    help = "Run MOLA on this machine: web server + Celery worker, with a seeded demo community."

    def handle(self, *args, **options) -> None:
        call_command("migrate", interactive=False, verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        call_command("seed_demo")
        port = settings.PORT
        host = os.environ.get("HOST", "127.0.0.1")
        worker = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "mola",
                "worker",
                "--loglevel=INFO",
                "--concurrency=2",
                "--without-gossip",
                "--without-mingle",
            ],
        )
        web = subprocess.Popen(
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
        )
        self._announce(host, port)
        self._wait(web, worker)

    def _announce(self, host: str, port: int) -> None:
        lines = [
            "",
            f"MOLA is running at http://{host}:{port}/  (API docs: /api/docs/, health: /healthz)",
            "Demo logins (password for all: " + DEMO_PASSWORD + "):",
            *(f"  {u.username:<10} {u.description}" for u in DEMO_USERS),
            "Press Ctrl-C to stop the server and the worker.",
            "",
        ]
        self.stdout.write("\n".join(lines))

    def _wait(self, *processes: subprocess.Popen) -> None:
        stopping = False

        def stop(signum, frame):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        try:
            while not stopping and all(p.poll() is None for p in processes):
                time.sleep(0.3)
        finally:
            for process in processes:
                if process.poll() is None:
                    process.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + 15
            for process in processes:
                try:
                    process.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    process.kill()
            self.stdout.write("MOLA stopped.")
