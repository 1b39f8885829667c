"""A retrain reads only the examples that changed, yet its snapshot is exactly the one a
fresh process reads: new, edited and retired examples, disputes and expertise all show."""

from __future__ import annotations

import pytest

from teaching.services import snapshots
from teaching.services.common import teaching_retire
from teaching.services.disputes import teachings_mark_disputed
from teaching.services.examples import example_create, example_update
from teaching.services.spaces import member_update
from teaching.services.training import space_snapshot
from tests.factories import row

pytestmark = pytest.mark.django_db


def _facts(snapshot) -> list[tuple]:
    return [
        (
            e.id,
            dict(e.features),
            e.label,
            e.author,
            e.expertise,
            e.refutes,
            e.evaluation,
            e.disputed,
        )
        for e in snapshot.examples
    ]


def _fresh_process_snapshot(space):
    snapshots._caches.clear()
    return space_snapshot(space)


def test_a_cached_snapshot_sees_every_kind_of_change(space, owner, teacher, expert):
    examples = [
        example_create(space=space, user=teacher, features=row(toss_height_cm=10 * i), label=label)[
            0
        ]
        for i, label in enumerate(["no cue", "high elbow", "toss in front", "no cue"])
    ]
    first = _fresh_process_snapshot(space)

    added, _ = example_create(
        space=space, user=expert, features=row(toss_height_cm=99), label="no cue"
    )
    example_update(
        space=space, user=teacher, example_id=examples[1].pk, features=row(toss_height_cm=77)
    )
    teaching_retire(space=space, kind="example", teaching_id=examples[2].pk, user=teacher)
    teachings_mark_disputed(space=space, refs={("example", examples[3].pk)})
    member_update(space=space, user=owner, username="teacher", expertise="master")
    space.refresh_from_db()

    cached = space_snapshot(space)
    assert _facts(cached) == _facts(_fresh_process_snapshot(space))
    by_id = {e.id: e for e in cached.examples}
    assert set(by_id) == {examples[0].pk, examples[1].pk, examples[3].pk, added.pk}
    assert by_id[examples[1].pk].features["toss_height_cm"] == 77
    assert by_id[examples[3].pk].disputed and by_id[examples[0].pk].expertise == "master"
    # Unchanged examples keep their features object: the learner's table reuses their row.
    before = {e.id: e for e in first.examples}
    assert by_id[examples[0].pk].features is before[examples[0].pk].features


def test_an_unchanged_space_gives_the_same_specs(space, teacher):
    example_create(space=space, user=teacher, features=row(), label="no cue")
    first = _fresh_process_snapshot(space)
    again = space_snapshot(space)
    assert [id(e) for e in again.examples] == [id(e) for e in first.examples]
