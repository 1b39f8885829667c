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


def _everything(snapshot) -> tuple:
    """The whole snapshot as plain facts (the examples', and the rest as read)."""
    return (
        _facts(snapshot),
        [
            (r.id, r.label, r.author, r.expertise, r.condition.text, r.disputed)
            for r in snapshot.rules
        ],
        [(c.id, c.name, c.author, c.condition.text) for c in snapshot.concepts],
        sorted((p.winner, p.loser) for p in snapshot.precedences),
        snapshot.revision,
    )


def test_after_each_kind_of_write_the_cached_snapshot_is_a_fresh_one(space, owner, teacher, expert):
    """One write at a time, each read by the process that read the one before (its cache
    warm) and compared with a fresh process's read."""
    from teaching.services.concepts import concept_create, concept_update
    from teaching.services.precedence import precedence_record
    from teaching.services.rules import rule_create, rule_update

    examples = [
        example_create(space=space, user=teacher, features=row(toss_height_cm=10 * i), label=lab)[0]
        for i, lab in enumerate(["no cue", "high elbow", "toss in front", "no cue", "no cue"])
    ]
    rules = [
        rule_create(space=space, user=teacher, condition=c, label="no cue")[0]
        for c in ("elbow_angle > 90", "toss_height_cm < 30", 'serve_type == "float"')
    ]
    concept, _ = concept_create(
        space=space, user=teacher, name="tall", definition="toss_height_cm > 40"
    )
    space.refresh_from_db()
    snapshots._caches.clear()
    space_snapshot(space)
    writes = {
        "example added": lambda: example_create(
            space=space, user=expert, features=row(toss_height_cm=99), label="no cue"
        ),
        "example edited": lambda: example_update(
            space=space, user=teacher, example_id=examples[1].pk, label="no cue"
        ),
        "example features edited": lambda: example_update(
            space=space, user=teacher, example_id=examples[0].pk, features=row(elbow_angle=77)
        ),
        "example retired": lambda: teaching_retire(
            space=space, kind="example", teaching_id=examples[2].pk, user=teacher
        ),
        "example disputed": lambda: teachings_mark_disputed(
            space=space, refs={("example", examples[3].pk)}
        ),
        "rule added": lambda: rule_create(
            space=space, user=expert, condition="fatigued", label="high elbow"
        ),
        "rule edited": lambda: rule_update(
            space=space, user=teacher, rule_id=rules[0].pk, label="high elbow"
        ),
        "rule retired": lambda: teaching_retire(
            space=space, kind="rule", teaching_id=rules[1].pk, user=teacher
        ),
        "rule disputed": lambda: teachings_mark_disputed(space=space, refs={("rule", rules[2].pk)}),
        "concept edited": lambda: concept_update(
            space=space, user=teacher, concept_id=concept.pk, definition="toss_height_cm > 60"
        ),
        "precedence": lambda: precedence_record(
            space=space, user=owner, order=[rules[0].pk, rules[2].pk]
        ),
        "expertise": lambda: member_update(
            space=space, user=owner, username="teacher", expertise="master"
        ),
        "expertise again": lambda: member_update(
            space=space, user=owner, username="expert", expertise="novice"
        ),
        "example added by the owner": lambda: example_create(
            space=space, user=owner, features=row(toss_height_cm=5), label="high elbow"
        ),
        "example retired again": lambda: teaching_retire(
            space=space, kind="example", teaching_id=examples[4].pk, user=teacher
        ),
    }
    for what, write in writes.items():
        write()
        space.refresh_from_db()
        cached = space_snapshot(space)
        fresh = _fresh_process_snapshot(space)
        assert _everything(cached) == _everything(fresh), what
        space_snapshot(space)  # the next write is read by a warm cache again (fresh's)


def test_the_cache_forgets_retired_examples_beyond_a_bound(space, teacher, monkeypatch):
    monkeypatch.setattr(snapshots, "_STALE", 1)
    examples = [
        example_create(space=space, user=teacher, features=row(toss_height_cm=i), label="no cue")[0]
        for i in range(4)
    ]
    first = _fresh_process_snapshot(space)
    for example in examples[:3]:
        teaching_retire(space=space, kind="example", teaching_id=example.pk, user=teacher)
    again = space_snapshot(space)
    assert [e.id for e in again.examples] == [examples[3].pk]
    assert again.examples[0] is first.examples[3]  # kept: nothing about it changed
    cache = snapshots._caches.get(snapshots._space_key(space))
    assert list(cache.examples) == [examples[3].pk]
    assert list(cache.specs.values()) == [first.examples[3]]


def test_examples_changed_without_a_revision_are_read_in_full(space, teacher):
    """The examples written since the last read are found by their revision; a status
    changed behind the services' back (no revision) fails the count check: a full read."""
    from teaching.models import Example, Status

    examples = [
        example_create(space=space, user=teacher, features=row(toss_height_cm=i), label="no cue")[0]
        for i in range(3)
    ]
    space.refresh_from_db()  # read at its revision: nothing is written since
    _fresh_process_snapshot(space)
    Example.objects.filter(pk=examples[1].pk).update(status=Status.RETIRED)
    space.refresh_from_db()
    assert _facts(space_snapshot(space)) == _facts(_fresh_process_snapshot(space))
    assert [e.id for e in space_snapshot(space).examples] == [examples[0].pk, examples[2].pk]
