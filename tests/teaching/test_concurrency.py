"""Many teachers at once: every write lands once, with its own increasing revision."""

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

    with ThreadPoolExecutor(max_workers=WRITERS) as pool:
        revisions = list(pool.map(write, range(WRITERS)))

    assert sorted(revisions) == list(range(1, WRITERS + 1))  # distinct, none lost
    assert Rule.objects.filter(space=space).count() == WRITERS
    stored = dict(TeachingRevision.objects.values_list("teaching_id", "revision"))
    assert sorted(stored.values()) == sorted(revisions)
    # Revision order is commit order: a higher revision was never stored before a lower one.
    by_id = list(Rule.objects.order_by("id").values_list("revision", flat=True))
    assert len(set(by_id)) == WRITERS
    space.refresh_from_db()
    assert space.teaching_revision == WRITERS
