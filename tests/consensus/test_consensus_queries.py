"""A consensus check reads and writes a space in a bounded number of queries, whatever its size.

A cold check in the worker once took minutes at 10,000 examples: it loaded every stored
contradiction as a model instance twice per check and wrote hundreds of thousands of rows in
one write transaction. A timed test would be flaky on a shared machine; counting queries on a
small space and on one four times larger catches a per-teaching or per-row query coming back.
"""

import random
from itertools import pairwise

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext

from consensus import loading
from consensus.models import Contradiction
from consensus.services import consensus_check
from teaching.models import Example, Rule, Space, Status
from tests.factories import SPACE_LABELS, make_user, row

pytestmark = pytest.mark.django_db

LABELS = [label["name"] for label in SPACE_LABELS]


def _grow(space, *, rules: int, examples: int, seed: int = 0) -> None:
    """Bulk-created live teachings (windows on the toss that overlap a lot), as a seeded
    space has them: no revisions, no checks run."""
    rng = random.Random(seed)
    authors = [make_user(f"coach{i}") for i in range(3)]
    common = {"space": space, "status": Status.ACTIVE, "revision": 1}
    Rule.objects.bulk_create(
        Rule(
            condition=f"toss_height_cm between {low} and {low + rng.randint(10, 60)}",
            label=rng.choice(LABELS),
            author=rng.choice(authors),
            **common,
        )
        for low in (rng.randint(0, 90) for _ in range(rules))
    )
    Example.objects.bulk_create(
        Example(
            features=row(toss_height_cm=float(rng.randint(0, 150)), fatigued=rng.random() < 0.5),
            label=rng.choice(LABELS),
            author=rng.choice(authors),
            **common,
        )
        for _ in range(examples)
    )
    # A new teaching revision, or a check would find the space checked already.
    Space.objects.filter(pk=space.pk).update(teaching_revision=F("teaching_revision") + 1)


def _queries(action) -> int:
    with CaptureQueriesContext(connection) as captured:
        action()
    return len(captured)


def _cold_build(space) -> int:
    loading.forget(space.pk)
    return _queries(lambda: loading.current_index(space.pk))


def test_a_cold_index_build_reads_the_space_in_a_fixed_number_of_queries(
    space, django_assert_max_num_queries
):
    _grow(space, rules=10, examples=40)
    small = _cold_build(space)
    _grow(space, rules=30, examples=120, seed=1)
    with django_assert_max_num_queries(small):
        loading.forget(space.pk)
        _, index = loading.current_index(space.pk)
    assert len(index.versions) == 200
    assert len(index.found) > 100  # a space full of contradictions, not an empty one


def test_a_cold_check_stores_many_contradictions_in_a_bounded_number_of_queries(
    space, django_assert_max_num_queries
):
    _grow(space, rules=10, examples=40)
    small = _queries(lambda: consensus_check(space_id=space.pk))
    _grow(space, rules=30, examples=120, seed=1)
    loading.forget(space.pk)
    # The same queries plus at most a few per thread: threads are capped (30 per space), and
    # rows are written in batches, never one query per contradiction.
    with django_assert_max_num_queries(small + 5 * 30):
        consensus_check(space_id=space.pk)
    assert Contradiction.objects.filter(space=space).count() > 300


def test_a_warm_check_after_one_edit_does_not_grow_with_the_space(space, teacher):
    _grow(space, rules=40, examples=160)
    consensus_check(space_id=space.pk)
    rule = Rule.objects.filter(space=space).first()

    def edit_and_check(revision: int, low: int) -> None:
        Rule.objects.filter(pk=rule.pk).update(
            condition=f"toss_height_cm between {low} and 149", revision=revision
        )
        type(space).objects.filter(pk=space.pk).update(teaching_revision=revision)
        consensus_check(space_id=space.pk, revision=revision)

    first = _queries(lambda: edit_and_check(10, 1))
    _grow(space, rules=40, examples=160, seed=2)
    consensus_check(space_id=space.pk)
    assert _queries(lambda: edit_and_check(20, 2)) <= first + 5 * 30


def test_a_cold_check_writes_new_rows_in_short_transactions(space, monkeypatch):
    """Many new contradictions are written a batch per transaction, so a first check of a
    big space never holds the write lock for minutes (it once held it for all 780k rows)."""
    from consensus import store

    # One INSERT each, even on SQLite (999 parameters: 39 rows of 25 columns).
    monkeypatch.setattr(store, "INSERT_BATCH", 30)
    _grow(space, rules=40, examples=160)
    with CaptureQueriesContext(connection) as captured:
        consensus_check(space_id=space.pk)
    rows = Contradiction.objects.filter(space=space).count()
    sql = [query["sql"] for query in captured.captured_queries]
    inserts = [i for i, text in enumerate(sql) if text.startswith('INSERT INTO "consensus_contra')]
    assert rows > 300 and len(inserts) >= rows // 30
    for before, after in pairwise(inserts):  # each batch commits before the next begins
        assert any(text.startswith("RELEASE SAVEPOINT") for text in sql[before:after])


def test_a_warm_check_leaves_unchanged_threads_alone(space, teacher):
    """A check that changes nothing a thread holds neither writes its threads nor hands
    their contradictions to them again: each thread is read with the others in one query
    (it once read, re-joined and re-handed each of the ~30 on every check)."""
    from community.models import Thread

    _grow(space, rules=40, examples=160)
    consensus_check(space_id=space.pk)
    threads = Thread.objects.filter(space=space)
    assert threads.count() > 3
    before = {t.pk: (t.updated_at, t.title, tuple(map(repr, t.teachings))) for t in threads}
    threaded = dict(
        Contradiction.objects.filter(space=space, thread__isnull=False).values_list("key", "thread")
    )
    Space.objects.filter(pk=space.pk).update(teaching_revision=F("teaching_revision") + 1)
    with CaptureQueriesContext(connection) as captured:
        consensus_check(space_id=space.pk)
    sql = [query["sql"] for query in captured.captured_queries]
    assert not [s for s in sql if s.startswith('UPDATE "community_thread"')]
    assert not [s for s in sql if '"community_thread_participants"' in s]
    assert len([s for s in sql if 'FROM "community_thread"' in s]) <= 2  # count, threads
    after = {t.pk: (t.updated_at, t.title, tuple(map(repr, t.teachings))) for t in threads}
    assert after == before
    assert threaded == dict(
        Contradiction.objects.filter(space=space, thread__isnull=False).values_list("key", "thread")
    )
