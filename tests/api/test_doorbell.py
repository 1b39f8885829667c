"""mola.doorbell: the wake-ups between one machine's processes that warm serving uses
without Redis."""

import os
import threading
import time

from mola import doorbell


def test_a_ring_wakes_a_waiting_doorbell_at_once_with_its_message(tmp_path):
    bell = doorbell.Doorbell(tmp_path)
    woken = []
    waiter = threading.Thread(target=lambda: woken.append((bell.wait(10), time.monotonic())))
    waiter.start()
    time.sleep(0.05)  # it waits
    rung = time.monotonic()
    assert doorbell.ring(tmp_path, b"3:41") == 1
    waiter.join(5)
    messages, at = woken[0]
    assert messages == [b"3:41"]
    assert at - rung < 1.0  # not its 10 s timeout
    bell.close()


def test_a_wait_with_nothing_rung_returns_nothing_after_its_timeout(tmp_path):
    bell = doorbell.Doorbell(tmp_path)
    started = time.monotonic()
    assert bell.wait(0.05) == []
    assert time.monotonic() - started >= 0.04
    bell.wake()  # its own wake-up has no message
    assert bell.wait(5) == [b""]
    bell.close()
    assert not bell.path.exists()


def test_a_ring_reaches_every_doorbell_and_removes_those_of_gone_processes(tmp_path):
    live, other, gone = (doorbell.Doorbell(tmp_path) for _ in range(3))
    gone._socket.close()  # as if its process was killed: the file is left behind
    assert doorbell.ring(tmp_path, b"1:2") == 2
    assert live.wait(1) == [b"1:2"] and other.wait(1) == [b"1:2"]
    assert not gone.path.exists()
    assert doorbell.ring(tmp_path / "nobody", b"1:2") == 0  # no folder: nobody listens


def test_no_doorbell_where_its_path_is_too_long_for_a_unix_socket(tmp_path):
    assert doorbell.listen(tmp_path / ("x" * 120)) is None  # the caller polls instead


def test_a_bell_closed_under_a_wait_returns_nothing_and_stays_quiet(tmp_path):
    # At exit the bell is closed (atexit) while the watcher's daemon thread may wait on it:
    # the wait ends with nothing, and later waits neither raise nor spin.
    bell = doorbell.Doorbell(tmp_path)
    outcome = []
    waiter = threading.Thread(target=lambda: outcome.append(bell.wait(0.5)))
    waiter.start()
    time.sleep(0.05)
    bell.close()
    waiter.join(5)
    assert outcome == [[]]
    started = time.monotonic()
    assert bell.wait(0.05) == []
    assert time.monotonic() - started >= 0.04  # its timeout, not a busy loop


def test_a_forked_childs_wake_leaves_its_parents_bell_alone(tmp_path):
    bell = doorbell.Doorbell(tmp_path)
    child = os.fork()
    if child == 0:  # the child inherited the parent's bell: waking it must not ring it
        bell.wake()
        os._exit(0)
    os.waitpid(child, 0)
    assert bell.wait(0.05) == []
    bell.wake()  # the parent's own wake does
    assert bell.wait(1) == [b""]
    bell.close()
