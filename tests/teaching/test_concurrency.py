"""Many teachers at once: every write lands once, with its own increasing revision."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from teaching.models import Rule, Space, TeachingRevision
from teaching.services.rules import rule_create

WRITERS = 20


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_writers_get_distinct_increasing_revisions(space, teacher):
    barrier_space = Space.objects.get(pk=space.pk)

    def write(n: int) -> int:
        try:
            _, revision = rule_create(
                space=barrier_space, user=teacher, condition=f"toss_height_cm > {n}", label="no cue"
            )
            return revision
        finally:
            connection.close()

    # Revision order is commit order: a reader never sees a revision before every lower
    # one has committed, so whatever it reads is 1..k.
    snapshots: list[list[int]] = []
    writing = threading.Event()

    def read() -> None:
        try:
            while writing.is_set() or not snapshots:
                snapshots.append(
                    sorted(
                        TeachingRevision.objects.filter(space=space).values_list(
                            "revision", flat=True
                        )
                    )
                )
        finally:
            connection.close()

    writing.set()
    reader = threading.Thread(target=read)
    reader.start()
    try:
        with ThreadPoolExecutor(max_workers=WRITERS) as pool:
            revisions = list(pool.map(write, range(WRITERS)))
    finally:
        writing.clear()
        reader.join()
    assert all(seen == list(range(1, len(seen) + 1)) for seen in snapshots)
    assert any(0 < len(seen) < WRITERS for seen in snapshots)  # it read while they wrote

    assert sorted(revisions) == list(range(1, WRITERS + 1))  # distinct, none lost
    assert Rule.objects.filter(space=space).count() == WRITERS
    stored = dict(TeachingRevision.objects.values_list("teaching_id", "revision"))
    assert sorted(stored.values()) == sorted(revisions)
    by_id = list(Rule.objects.order_by("id").values_list("revision", flat=True))
    assert len(set(by_id)) == WRITERS
    space.refresh_from_db()
    assert space.teaching_revision == WRITERS
