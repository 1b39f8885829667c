"""``GET /healthz``: is the database up, does the broker answer, does a worker answer, and how
far behind is the background work?"""

from __future__ import annotations

import tempfile

from django.conf import settings
from django.db import connection
from django.http import JsonResponse

from mola import sweeper
from mola.celery import app

BROKER_TIMEOUT = 1.0  # seconds: a broker slower than this to connect counts as down


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


def _worker_ok() -> bool:
    # A broadcast ping reaches every worker listening on the broker and waits for a reply:
    # it proves a worker is alive and consuming, not just that one once started.
    try:
        return bool(app.control.ping(timeout=1.5, limit=1))  # the first reply is enough
    except Exception:
        return False


def _backlog() -> dict | None:
    try:
        return sweeper.backlog()
    except Exception:
        return None


def healthz(request) -> JsonResponse:
    database = _database_ok()
    broker = _broker_ok()
    worker = broker and _worker_ok()
    body = {
        "database": "ok" if database else "down",
        "broker": "ok" if broker else "down",
        "worker": "ok" if worker else "down",
        # Work recorded by writes and not done yet (see README "Recovery"); null when the
        # database cannot say.
        "backlog": _backlog() if database else None,
    }
    return JsonResponse(body, status=200 if database else 503)
