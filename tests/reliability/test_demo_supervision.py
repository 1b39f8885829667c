"""``make demo`` keeps its processes running: a worker or the web server killed -9 is
logged and started again, and the demo goes on (it used to stop everything)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.reliability.processes import free_port
from tests.worker import ROOT

pytestmark = [pytest.mark.reliability]

SERVER_ENV = ("DATABASE_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "REDIS_URL")


class Demo:
    def __init__(self, tmp_path) -> None:
        self.port = free_port()
        self.log_path = tmp_path / "demo.log"
        env = {k: v for k, v in os.environ.items() if k not in SERVER_ENV}
        env.update(PORT=str(self.port), MOLA_DATA_DIR=str(tmp_path), PYTHONUNBUFFERED="1")
        self.log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", "rundemo"],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def pid(self, name: str, after: int = 0) -> int:
        """The pid the demo last logged for ``name`` (started or restarted), waiting for a
        log line past position ``after``."""
        deadline = time.monotonic() + 180
        pattern = re.compile(rf"(?:started|restarted) {name} \(pid (\d+)")
        while time.monotonic() < deadline:
            found = list(pattern.finditer(self.text(), after))
            if found:
                return int(found[-1].group(1))
            assert self.process.poll() is None, self.text()[-3000:]
            time.sleep(0.2)
        raise AssertionError(f"no {name} started: {self.text()[-3000:]}")

    def healthy(self, timeout: float = 90) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                url = f"http://127.0.0.1:{self.port}/healthz"
                with urllib.request.urlopen(url, timeout=5) as response:
                    body = json.loads(response.read())
                    if body["worker"] == "ok":
                        return body
            except OSError:
                pass
            time.sleep(0.5)
        raise AssertionError(f"the demo is not healthy: {self.text()[-3000:]}")

    def stop(self) -> int:
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGINT)  # Ctrl-C
            try:
                self.process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
        self.log.close()
        return self.process.returncode


@pytest.fixture
def demo(tmp_path):
    demo = Demo(tmp_path)
    yield demo
    demo.stop()


def test_a_killed_worker_and_web_server_are_started_again(demo):
    worker, web = demo.pid("worker-training"), demo.pid("web")
    assert demo.pid("worker-consensus") not in (worker, web)  # one worker per pool
    demo.healthy()

    mark = len(demo.text())
    os.kill(worker, signal.SIGKILL)
    new_worker = demo.pid("worker-training", after=mark)
    assert new_worker != worker
    assert f"worker-training (pid {worker}) exited with code -9" in demo.text()
    demo.healthy()

    mark = len(demo.text())
    os.kill(web, signal.SIGKILL)
    new_web = demo.pid("web", after=mark)
    assert new_web != web
    assert demo.healthy()["database"] == "ok"
    assert demo.process.poll() is None  # the demo itself never stopped

    assert demo.stop() == 0
    assert "MOLA stopped." in demo.text()
