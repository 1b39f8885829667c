"""The bounded least-recently-used map every per-process cache uses (mola/engine/lru.py)."""

from __future__ import annotations

import threading

import pytest

from mola.engine.lru import LRU


def test_it_forgets_the_least_recently_used_beyond_its_size():
    lru = LRU(2)
    lru.put("a", 1)
    lru.put("b", 2)
    assert lru.get("a") == 1  # a is now the most recently used
    lru.put("c", 3)
    assert lru.keys() == ["a", "c"] == list(lru) and "b" not in lru and len(lru) == 2


def test_peek_leaves_the_order_as_it_is():
    lru = LRU(2)
    lru.put("a", 1)
    lru.put("b", 2)
    assert lru.peek("a") == 1 and lru.peek("z", 0) == 0
    lru.put("c", 3)
    assert lru.keys() == ["b", "c"]


def test_storing_again_refreshes_and_replaces():
    lru = LRU(2)
    lru.put("a", 1)
    lru.put("b", 2)
    lru.put("a", 10)
    lru.put("c", 3)
    assert lru.items() == [("a", 10), ("c", 3)]


def test_it_tells_what_it_forgets_but_not_what_is_popped():
    forgotten = []
    lru = LRU(1, on_evict=lambda key, value: forgotten.append((key, value)))
    lru.put("a", 1)
    lru.put("b", 2)
    assert lru.pop("b") == 2 and lru.pop("b") is None
    lru.put("c", 3)
    lru.clear()
    assert forgotten == [("a", 1)] and not lru


def test_pop_oldest_takes_entries_in_order():
    lru = LRU(3)
    for key in "abc":
        lru.put(key, key.upper())
    lru.put("a", "A")  # a stored again: now the newest
    assert [lru.pop_oldest() for _ in range(3)] == [("b", "B"), ("c", "C"), ("a", "A")]
    with pytest.raises(KeyError):
        lru.pop_oldest()


def test_a_size_given_as_a_function_is_asked_at_each_store():
    kept = [2]
    lru = LRU(lambda: kept[0])
    for key in "abc":
        lru.put(key, 0)
    assert lru.keys() == ["b", "c"]
    kept[0] = 1
    lru.put("d", 0)
    assert lru.keys() == ["d"]
    kept[0] = 0  # at least one, whatever it says
    lru.put("e", 0)
    assert lru.keys() == ["e"]


def test_it_keeps_at_least_one_entry():
    with pytest.raises(ValueError):
        LRU(0)


def test_threads_storing_at_once_never_overfill_it():
    lru = LRU(50)

    def store(offset: int) -> None:
        for i in range(2_000):
            lru.put((offset, i), i)
            lru.get((offset, i - 1))

    threads = [threading.Thread(target=store, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(lru) == 50 and len(set(lru.keys())) == 50
