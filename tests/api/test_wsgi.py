"""mola/wsgi.py: a web process freezes what its imports made out of the cyclic garbage
collector's sight, so that a full collection walks only what came after."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent

_PROBE = """
import gc, time
import mola.wsgi
from teaching.api import model  # a view module: imported with the URLconf, so frozen
frozen, tracked = gc.get_freeze_count(), len(gc.get_objects())
started = time.process_time()
gc.collect()
print(frozen, tracked, time.process_time() - started)
"""


def test_the_web_process_freezes_its_imports_out_of_full_collections():
    result = subprocess.run(
        [sys.executable, "-c", _PROBE],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "mola.settings"},
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    frozen, tracked, seconds = result.stdout.split()
    assert int(frozen) > 50_000  # Django, the URLconf's views, the engine
    assert int(tracked) < int(frozen) // 20  # a full collection walks only these
    assert float(seconds) < 0.05  # ~100 ms without the freeze
