import pytest


@pytest.mark.worker
def test_healthz_reports_database_broker_and_a_live_worker(client, celery_worker, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "database": "ok",
        "broker": "ok",
        "worker": "ok",
        "queues": {"training": 1, "consensus": 1, "celery": 1},  # one worker reads them all
        "backlog": {"pending": 0, "overdue": 0, "oldest_overdue_seconds": 0, "failed": 0},
    }


def test_healthz_says_the_worker_is_down_when_none_runs(client, db, settings):
    # A broker URL nobody listens on: the broker is down, and so no worker can answer.
    from mola.celery import app

    original = app.conf.broker_write_url, app.conf.broker_read_url, app.conf.broker_transport
    app.conf.broker_write_url = app.conf.broker_read_url = "redis://127.0.0.1:1/0"
    app.conf.broker_transport = None  # as settings leave it for any broker but the filesystem
    try:
        body = client.get("/healthz").json()
    finally:
        (app.conf.broker_write_url, app.conf.broker_read_url, app.conf.broker_transport) = original
    assert (body["database"], body["broker"], body["worker"]) == ("ok", "down", "down")
    assert body["queues"] is None
