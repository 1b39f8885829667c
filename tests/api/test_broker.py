"""The one-machine broker never hands a worker half a message."""

import json
import os
import threading

import pytest
from kombu import Connection

pytestmark = pytest.mark.skipif(
    not os.environ.get("CELERY_BROKER_URL", "filesystem://").startswith("filesystem://"),
    reason="the filesystem broker is the default only without CELERY_BROKER_URL",
)


def _connection(folder):
    return Connection(
        "filesystem://",
        transport="mola.broker:Transport",
        transport_options={
            "data_folder_in": str(folder),
            "data_folder_out": str(folder),
            "control_folder": str(folder / "control"),
        },
    )


def test_the_app_uses_the_atomic_transport():
    from mola.celery import app

    with app.connection_for_write() as connection:
        assert type(connection.transport).__module__ == "mola.broker"


def test_a_message_is_never_visible_half_written(tmp_path):
    body = {"payload": "x" * 20_000}  # the stock transport fails this within ~1,000 messages
    seen = []

    def read_while_writing(stop):
        while not stop.is_set():
            for name in os.listdir(tmp_path):
                if name.endswith(".msg"):
                    try:
                        with open(tmp_path / name, "rb") as f:
                            seen.append(f.read())
                    except FileNotFoundError:
                        pass

    stop = threading.Event()
    reader = threading.Thread(target=read_while_writing, args=(stop,))
    reader.start()
    try:
        with _connection(tmp_path) as connection:
            queue = connection.SimpleQueue("jobs")
            for _ in range(1000):
                queue.put(body)
            received = [queue.get(timeout=5) for _ in range(1000)]
            for message in received:
                message.ack()
            queue.close()
    finally:
        stop.set()
        reader.join()
    assert [m.payload for m in received] == [body] * 1000
    assert seen, "the reader never looked at a message file"
    for raw in seen:  # every .msg the reader ever found was complete
        assert json.loads(raw)["body"]
    assert not [n for n in os.listdir(tmp_path) if n.endswith(".part")]
