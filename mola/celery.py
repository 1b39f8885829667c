"""The Celery app. Tasks are thin: ids in, one service call; see each app's tasks.py."""

import os

from celery import Celery
from celery.signals import worker_ready

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
