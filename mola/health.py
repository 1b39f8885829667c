"""``GET /healthz``: is the database up, does the broker answer, does a worker answer on every
queue, and how far behind is the background work?"""

from __future__ import annotations

import tempfile

from django.conf import settings
from django.db import connection
from django.http import JsonResponse

from mola import sweeper
from mola.celery import app
from mola.pools import ALL_QUEUES

BROKER_TIMEOUT = 1.0  # seconds: a broker slower than this to connect counts as down
WORKER_TIMEOUT = 1.0  # seconds the workers have to answer


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:
        return False


def _filesystem_broker_ok() -> bool:
    # Connecting to the filesystem transport always "works"; what fails is writing a message.
    folder = settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_out"]
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".healthz-"):
            return True
    except OSError:
        return False


def _broker_ok() -> bool:
    if app.conf.broker_transport == "mola.broker:Transport" and not _filesystem_broker_ok():
        return False
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=BROKER_TIMEOUT)
        return True
    except Exception:
        return False


def _queues_consumed() -> dict[str, int] | None:
    """How many live workers consume each of the app's queues (``mola.pools``); None when
    the broker cannot be asked. A broadcast reaches every worker listening on the broker and
    waits ``WORKER_TIMEOUT`` for replies: it proves a worker is alive and consuming, not just
    that one once started — and a training pool that answers no longer hides a dead
    consensus pool."""
    try:
        replies = app.control.inspect(timeout=WORKER_TIMEOUT).active_queues() or {}
    except Exception:
        return None
    counts = dict.fromkeys(ALL_QUEUES, 0)
    for queues in replies.values():
        for name in {queue["name"] for queue in queues}:
            counts[name] = counts.get(name, 0) + 1
    return counts


def _backlog() -> dict | None:
    try:
        return sweeper.backlog()
    except Exception:
        return None


def healthz(request) -> JsonResponse:
    database = _database_ok()
    broker = _broker_ok()
    queues = _queues_consumed() if broker else None
    # "ok" when every queue has a worker: work sent to a queue nobody reads is never done.
    worker = bool(queues) and all(queues[name] for name in ALL_QUEUES)
    body = {
        "database": "ok" if database else "down",
        "broker": "ok" if broker else "down",
        "worker": "ok" if worker else "down",
        # Live workers per queue (null when the broker is down): which pool is missing.
        "queues": queues,
        # Work recorded by writes and not done yet (see README "Recovery"); null when the
        # database cannot say.
        "backlog": _backlog() if database else None,
    }
    return JsonResponse(body, status=200 if database else 503)
