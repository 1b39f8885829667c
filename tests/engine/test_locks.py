"""One lock per key (locks.py)."""

from mola.engine.locks import KeyedLocks


def test_keyed_locks_give_each_key_one_lock_of_its_own():
    locks = KeyedLocks()
    assert locks(1) is locks(1)
    assert locks(1) is not locks(2)
    with locks(1):
        assert locks(2).acquire(blocking=False)  # another key is not held up
        locks(2).release()
        assert not locks(1).acquire(blocking=False)
