"""The in-memory buffer behind predict's notes: nothing lost across threads, never raising."""

import threading
import time

from mola.buffered import FlushingBuffer


def test_a_flush_hands_over_everything_added_once():
    written: list[list[int]] = []
    buffer = FlushingBuffer(written.append, every=60, name="numbers")
    buffer.add(1, 2)
    buffer.add(3)
    buffer.flush()
    buffer.flush()  # nothing new: no empty write
    assert written == [[1, 2, 3]]


def test_a_timer_writes_within_the_interval():
    written: list[list[str]] = []
    buffer = FlushingBuffer(written.append, every=0.05, name="words")
    buffer.add("a")
    deadline = time.monotonic() + 5
    while not written:
        assert time.monotonic() < deadline, "the timer never wrote"
        time.sleep(0.01)
    assert written == [["a"]]


def test_items_from_many_threads_are_all_written_and_never_concurrently():
    written: list[int] = []
    writing = threading.Lock()

    def write(batch):
        assert writing.acquire(blocking=False), "two writes at once"
        try:
            written.extend(batch)
        finally:
            writing.release()

    buffer = FlushingBuffer(write, every=0.001, name="numbers")

    def add_many(start):
        for n in range(start, start + 500):
            buffer.add(n)

    threads = [threading.Thread(target=add_many, args=(k * 1000,)) for k in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    buffer.flush()
    assert sorted(written) == [k * 1000 + n for k in range(6) for n in range(500)]


def test_a_failing_write_loses_the_batch_but_never_raises(caplog):
    def broken(batch):
        raise ConnectionError("cache is down")

    buffer = FlushingBuffer(broken, every=60, name="numbers")
    buffer.add(1)
    buffer.flush()  # no exception
    assert "could not write 1 numbers" in caplog.text
