"""The Celery app. Tasks are thin: ids in, one service call; see each app's tasks.py."""

import gc
import os

from celery import Celery
from celery.signals import worker_init, worker_process_init, worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mola.settings")
# Models are small and every process (gunicorn workers, Celery children) serves one request
# at a time on a small machine: threaded BLAS only adds contention (measured: a retrain's
# wall time was five times its CPU time under load). Set before numpy is first imported.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

app = Celery("mola")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_ready.connect
def _start_the_sweep(**kwargs) -> None:
    # Overdue work (a lost message, a broker that was down, a worker killed mid-training) is
    # sent again by a thread of every worker: see mola/sweeper.py.
    from mola import sweeper

    sweeper.start()


@worker_process_init.connect
def _yield_to_teachers(**kwargs) -> None:
    # A consensus pool process gives way to retrains and web processes on shared cores
    # (mola/pools.py). Each child sets its own: it knows the queues its worker consumes.
    from django.conf import settings

    from mola.pools import nice_for

    lower = nice_for(set(app.amqp.queues.consume_from or ()), settings.CONSENSUS_NICE)
    if lower:
        os.nice(lower)


@worker_init.connect
def _freeze_what_imports_made(**kwargs) -> None:
    # Before the pool's processes are forked: a retraining worker imports the learning
    # engine now (each process's first fit would) and moves what the imports made out of
    # the cyclic collector's sight, as a web process does (mola/wsgi.py). Those objects
    # live as long as the process, and every full collection walked them again: traced in
    # bench/retrain.py at M, a full collection in a training process cost ~160 ms, once per
    # process every ~20 quick writes, inside a teacher's wait (that write's snapshot or
    # evaluate stage). The processes inherit the frozen heap. Consensus-only workers settle
    # their own (consensus.services._heap_settle).
    from mola.pools import TRAINING_QUEUE

    queues = set(app.amqp.queues.consume_from or ())
    if queues and TRAINING_QUEUE not in queues:
        return
    import sklearn.ensemble  # noqa: F401

    import mola.engine.learning  # noqa: F401

    gc.freeze()
