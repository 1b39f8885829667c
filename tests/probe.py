"""Running a few lines of Python in a fresh interpreter of the project, as a process would
start (imports, signals, frozen heaps): its printed words."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def probe(code: str, *args: str) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "mola.settings"},
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.split()
