"""The one-machine broker never hands a worker half a message."""

import json
import os
import threading
import time

import pytest
from kombu import Connection

pytestmark = pytest.mark.skipif(
    not os.environ.get("CELERY_BROKER_URL", "filesystem://").startswith("filesystem://"),
    reason="the filesystem broker is the default only without CELERY_BROKER_URL",
)


def _connection(folder, **options):
    return Connection(
        "filesystem://",
        transport="mola.broker:Transport",
        transport_options={
            "data_folder_in": str(folder),
            "data_folder_out": str(folder),
            "control_folder": str(folder / "control"),
            **options,
        },
    )


@pytest.mark.parametrize("rung", [True, False], ids=["rung", "ring lost"])
def test_a_sender_rings_the_consumer_which_else_still_polls(tmp_path, rung):
    """With a doorbell folder a consumer takes a message at once, however long its poll;
    a sender that rings no doorbell leaves the message to that poll."""
    bells = {"doorbell_folder": str(tmp_path / "doorbells")}
    consumer = _connection(tmp_path, polling_interval=30 if rung else 0.2, **bells)
    sender = _connection(tmp_path, **(bells if rung else {}))
    # A name of its own: kombu keeps declared exchanges per process, so a "jobs" declared
    # in another folder would route this test's message nowhere.
    name = f"rung-{rung}"
    queue = consumer.SimpleQueue(name)
    got = []
    taker = threading.Thread(target=lambda: got.append((queue.get(timeout=60), time.monotonic())))
    taker.start()
    time.sleep(0.3)  # it has listed the empty queue and waits
    sent = time.monotonic()
    sending = sender.SimpleQueue(name)
    sending.put({"n": 1})
    sending.close()
    taker.join(60)
    message, at = got[0]
    assert message.payload == {"n": 1}
    assert at - sent < 5  # not its 30 s poll when rung
    message.ack()
    queue.close()
    consumer.release()
    sender.release()


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


def test_a_message_left_while_the_prefetch_slots_were_full_is_taken_at_the_ack(tmp_path):
    """A consumer whose one prefetch slot is taken leaves a new message (its ring spent on
    nothing); the ack that frees the slot wakes it, not its next poll."""
    bells = {"doorbell_folder": str(tmp_path / "doorbells")}
    consumer = _connection(tmp_path, polling_interval=30, **bells)
    sender = _connection(tmp_path, **bells)
    queue = consumer.SimpleQueue("slots")
    queue.consumer.qos(prefetch_count=1)
    sending = sender.SimpleQueue("slots")
    sending.put({"n": 1})
    first = queue.get(timeout=10)  # unacked: the one slot is full
    got = []
    taker = threading.Thread(target=lambda: got.append((queue.get(timeout=60), time.monotonic())))
    taker.start()
    sending.put({"n": 2})  # rung, but the slot is full
    time.sleep(0.5)
    assert got == []
    acked = time.monotonic()
    first.ack()
    taker.join(60)
    message, at = got[0]
    assert message.payload == {"n": 2}
    assert at - acked < 5  # not its 30 s poll
    message.ack()
    sending.close()
    queue.close()
    consumer.release()
    sender.release()
