"""mola/celery.py: a retraining worker imports the learning engine before its processes are
forked and freezes what the imports made out of the cyclic collector's sight; a
consensus-only worker does not (it settles its own heap)."""

import pytest

from tests.probe import probe

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
    count, engine = probe(_PROBE, queues)
    assert (int(count) > 50_000) is frozen  # Django, Celery, scikit-learn, the engine
    assert (engine == "True") is frozen
