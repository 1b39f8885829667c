"""mola/celery.py: a retraining worker imports the learning engine before its processes are
forked and freezes what the imports made out of the cyclic collector's sight; a
consensus-only worker does not (it settles its own heap)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent

_PROBE = """
import gc, sys
import django
django.setup()
from celery.signals import worker_init
from mola.celery import app
app.amqp.queues.select(sys.argv[1].split(","))
worker_init.send(sender=None)
print(gc.get_freeze_count(), "sklearn.ensemble" in sys.modules)
"""


@pytest.mark.parametrize(
    ("queues", "frozen"),
    [("training", True), ("training,consensus,celery", True), ("consensus,celery", False)],
)
def test_a_retraining_worker_freezes_its_imports_before_forking(queues, frozen):
    result = subprocess.run(
        [sys.executable, "-c", _PROBE, queues],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "mola.settings"},
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    count, engine = result.stdout.split()
    assert (int(count) > 50_000) is frozen  # Django, Celery, scikit-learn, the engine
    assert (engine == "True") is frozen
