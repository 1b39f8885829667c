"""``GET /healthz``: is the database up, does the broker answer, does a worker answer?"""

from __future__ import annotations

from django.db import connection
from django.http import JsonResponse

from mola.celery import app


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:
        return False


def _broker_ok() -> bool:
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
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


def healthz(request) -> JsonResponse:
    database = _database_ok()
    broker = _broker_ok()
    worker = broker and _worker_ok()
    body = {
        "database": "ok" if database else "down",
        "broker": "ok" if broker else "down",
        "worker": "ok" if worker else "down",
    }
    return JsonResponse(body, status=200 if database else 503)
