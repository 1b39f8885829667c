"""Contradictions stored, kept current and turned into threads (no worker: direct calls)."""

import pytest

from community.models import Thread
from consensus.decisions import contradictions_decide
from consensus.evidence import contradiction_shown
from consensus.models import Contradiction
from consensus.services import consensus_check, consensus_recompute
from mola.engine.language import compile_condition
from mola.engine.table import table_from_rows
from teaching.models import Rule
from teaching.services.common import teaching_retire
from teaching.services.rules import rule_create, rule_update
from tests.factories import SPACE_API as S
from tests.factories import row

pytestmark = pytest.mark.django_db


def _open(space):
    return list(Contradiction.objects.filter(space=space, status="open"))


def test_overlapping_rules_make_a_contradiction_with_a_valid_witness(space, teacher, expert):
    a, _ = rule_create(
        space=space, user=teacher, condition="toss_height_cm > 60", label="toss in front"
    )
    b, _ = rule_create(
        space=space,
        user=expert,
        condition='toss_height_cm < 80 and serve_type == "jump"',
        label="no cue",
    )
    consensus_check(space_id=space.pk)
    [found] = _open(space)
    assert found.kind == "rule_overlap"
    assert found.teachings == [{"type": "rule", "id": a.pk}, {"type": "rule", "id": b.pk}]
    for rule in (a, b):  # the witness lies in both regions, by the language's own evaluator
        condition = compile_condition(rule.condition, space.schema)
        assert condition.evaluate(table_from_rows(space.schema, [found.witness]))[0]
    assert "60" in found.region and "jump" in found.region
    thread = Thread.objects.get(pk=found.thread_id)
    assert {u.username for u in thread.participants.all()} == {"teacher", "expert"}
    assert "teacher" in thread.title and "expert" in thread.title
    assert set(Rule.objects.filter(disputed=True).values_list("pk", flat=True)) == {a.pk, b.pk}


def test_narrowing_a_rule_closes_the_contradiction_by_itself(space, teacher, expert):
    a, _ = rule_create(
        space=space, user=teacher, condition="toss_height_cm > 60", label="toss in front"
    )
    rule_create(space=space, user=expert, condition="toss_height_cm < 80", label="no cue")
    consensus_check(space_id=space.pk)
    assert len(_open(space)) == 1
    rule_update(space=space, user=teacher, rule_id=a.pk, condition="toss_height_cm >= 80")
    consensus_check(space_id=space.pk)
    assert _open(space) == []
    closed = Contradiction.objects.get(space=space)
    assert closed.status == "resolved" and "by itself" in closed.close_note
    assert not Rule.objects.filter(disputed=True).exists()


def _dismiss_all(space) -> None:
    """A moderator dismisses every open contradiction of the space (as a resolution does)."""
    ids = list(Contradiction.objects.filter(space=space).values_list("pk", flat=True))
    assert ids
    contradictions_decide(space=space, ids=ids, status="dismissed", note="deliberate")


def test_a_dismissed_contradiction_stays_closed_until_a_teaching_changes(space, teacher, expert):
    a, _ = rule_create(
        space=space, user=teacher, condition="toss_height_cm > 60", label="toss in front"
    )
    rule_create(space=space, user=expert, condition="toss_height_cm < 80", label="no cue")
    consensus_check(space_id=space.pk)
    _dismiss_all(space)
    consensus_check(space_id=space.pk)
    assert Contradiction.objects.get().status == "dismissed"
    rule_update(space=space, user=teacher, rule_id=a.pk, condition="toss_height_cm > 65")
    consensus_check(space_id=space.pk)
    assert Contradiction.objects.get().status == "open"


def test_incremental_equals_from_scratch(space, teacher, expert):
    conditions = [
        "toss_height_cm > 60",
        "toss_height_cm < 80",
        "fatigued",
        'serve_type in ["jump", "float"]',
        "elbow_angle between 90 and 120",
    ]
    labels = ["toss in front", "no cue", "high elbow", "no cue", "toss in front"]
    rules = []
    for condition, label in zip(conditions, labels, strict=True):
        rule, _ = rule_create(space=space, user=teacher, condition=condition, label=label)
        rules.append(rule)
        consensus_check(space_id=space.pk)
    from teaching.services.examples import example_create

    example_create(space=space, user=expert, features=row(toss_height_cm=70), label="no cue")
    consensus_check(space_id=space.pk)
    teaching_retire(space=space, kind="rule", teaching_id=rules[2].pk, user=teacher)
    consensus_check(space_id=space.pk)
    incremental = {(c.key, c.severity, c.status) for c in Contradiction.objects.all()}
    consensus_recompute(space=space)
    scratch = {(c.key, c.severity, c.status) for c in Contradiction.objects.all()}
    assert incremental == scratch and len([s for s in incremental if s[2] == "open"]) >= 3


_STORED = ("key", "kind", "teachings", "witness", "region", "evidence", "severity", "note")
_STORED += ("summary", "expected", "status", "digest", "first", "second", "thread_id")
_STORED += ("evidence_from",)


def test_a_row_whose_severity_moves_is_stored_as_a_recompute_stores_it(space, teacher, expert):
    """An example entering a suspect rule's region moves the severity of each of the rule's
    overlaps (how far above the others it ranks) and nothing else of them: their note names
    the suspect rule without its counts, which the rule's example contradictions give. The
    check writes only the columns that moved, and every column then holds what a
    from-scratch recompute stores."""
    from teaching.services.examples import example_create

    suspect, _ = rule_create(
        space=space, user=teacher, condition="toss_height_cm > 60", label="toss in front"
    )
    rule_create(space=space, user=expert, condition="toss_height_cm < 80", label="no cue")
    for height in (100, 110, 120):  # outside the overlap: its evidence stays the same
        example_create(
            space=space, user=expert, features=row(toss_height_cm=height), label="high elbow"
        )
    consensus_check(space_id=space.pk)
    overlap = Contradiction.objects.get(kind="rule_overlap")
    assert f"rule #{suspect.pk} disagrees with most" in overlap.note.lower()
    against = Contradiction.objects.filter(kind="rule_example").first()
    evidence, note = contradiction_shown(against)
    assert "3 of the 3" in note and evidence["high elbow"] == 3
    assert "3 of the 3" not in against.note and against.evidence == {}  # counts: per rule
    example_create(space=space, user=expert, features=row(toss_height_cm=130), label="high elbow")
    consensus_check(space_id=space.pk)
    moved = Contradiction.objects.get(pk=overlap.pk)
    assert moved.severity > overlap.severity  # 4 of 4 disagree: more surely a mistake
    assert (moved.note, moved.witness, moved.evidence, moved.region) == (
        overlap.note,
        overlap.witness,
        overlap.evidence,
        overlap.region,
    )
    assert contradiction_shown(moved) == contradiction_shown(overlap)
    kept = Contradiction.objects.get(pk=against.pk)
    assert "4 of the 4" in contradiction_shown(kept)[1]
    assert kept.note == against.note
    incremental = sorted(Contradiction.objects.values_list(*_STORED))
    consensus_recompute(space=space)
    assert sorted(Contradiction.objects.values_list(*_STORED)) == incremental


def _another_space(space):
    """A second space with the same schema and owner."""
    return type(space).objects.create(
        slug="other",
        name="Other",
        features=space.features,
        labels=space.labels,
        created_by=space.created_by,
    )


def test_a_process_keeps_at_most_the_configured_number_of_indexes(space, teacher, settings):
    from consensus import loading

    settings.CONSENSUS_INDEXES_KEPT = 1
    rule_create(space=space, user=teacher, condition="toss_height_cm > 60", label="no cue")
    consensus_check(space_id=space.pk)
    assert list(loading._indexes) == [space.pk]
    other = _another_space(space)
    loading.current_index(other.pk)
    assert list(loading._indexes) == [other.pk]  # the least recently used one went


def test_a_space_whose_index_is_busy_does_not_hold_up_another_space(space, teacher):
    import threading
    import time

    from consensus import loading

    other = _another_space(space)
    holding, release = threading.Event(), threading.Event()

    def build_for_a_while() -> None:  # as a first preview building the index at M does
        with loading.index_lock(space.pk):
            holding.set()
            release.wait(5)

    busy = threading.Thread(target=build_for_a_while)
    busy.start()
    holding.wait(5)
    started = time.monotonic()
    loading.current_index(other.pk)
    waited = time.monotonic() - started
    release.set()
    busy.join()
    assert waited < 4


def test_contradictions_api_lists_most_severe_first_and_filters(
    api, space, teacher, expert, outsider
):
    rule_create(space=space, user=teacher, condition="toss_height_cm > 60", label="toss in front")
    rule_create(space=space, user=expert, condition="toss_height_cm < 80", label="no cue")
    rule_create(
        space=space, user=expert, condition="toss_height_cm > 70 and fatigued", label="high elbow"
    )
    consensus_check(space_id=space.pk)
    body = api(teacher).get(f"{S}/contradictions").json()
    severities = [c["severity"] for c in body["results"]]
    assert body["count"] >= 2 and severities == sorted(severities, reverse=True)
    item = body["results"][0]
    assert set(item) >= {
        "id",
        "kind",
        "teachings",
        "witness",
        "region",
        "evidence",
        "severity",
        "thread",
        "status",
    }
    only = api(teacher).get(f"{S}/contradictions?kind=rule_exception").json()["results"]
    assert only and all(c["kind"] == "rule_exception" for c in only)
    bad = api(teacher).get(f"{S}/contradictions?status=maybe")
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "status"
    assert api().get(f"{S}/contradictions").status_code == 401


def test_preview_says_what_a_rule_would_do(api, space, teacher, expert):
    from teaching.services.examples import example_create

    rule_create(space=space, user=expert, condition="toss_height_cm < 80", label="no cue")
    example_create(space=space, user=expert, features=row(toss_height_cm=70), label="no cue")
    example_create(
        space=space, user=expert, features=row(toss_height_cm=100), label="toss in front"
    )
    response = api(teacher).post(
        f"{S}/rules/preview",
        {"condition": "toss_height_cm > 60", "label": "toss in front"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["covers"]["agreeing"], body["covers"]["disagreeing"]) == (1, 1)
    assert [c["kind"] for c in body["contradictions"] if c["kind"] == "rule_overlap"]
    assert Rule.objects.count() == 1  # nothing saved
    bad = api(teacher).post(
        f"{S}/rules/preview", {"condition": "toss_heigth > 1", "label": "no cue"}, format="json"
    )
    assert bad.status_code == 400 and bad.json()["errors"][0]["suggestion"] == "toss_height_cm"


def test_a_first_preview_builds_the_index_alone_and_the_next_check_stores_everything(
    api, space, teacher, expert
):
    """A preview in a process without the space's index builds the index but not its
    contradictions (at M: ~6.5 of ~10 s); the check after it works them out and stores
    what a recompute stores."""
    from consensus import loading
    from teaching.services.examples import example_create

    rule_create(space=space, user=expert, condition="toss_height_cm < 80", label="no cue")
    example_create(space=space, user=expert, features=row(toss_height_cm=70), label="no cue")
    loading.forget(space.pk)
    response = api(teacher).post(
        f"{S}/rules/preview",
        {"condition": "toss_height_cm > 60", "label": "toss in front"},
        format="json",
    )
    kinds = {c["kind"] for c in response.json()["contradictions"]}
    assert kinds == {"rule_overlap", "rule_example"}
    assert loading._indexes.peek(space.pk).found is None
    rule_create(space=space, user=teacher, condition="toss_height_cm > 60", label="toss in front")
    consensus_check(space_id=space.pk)
    assert loading._indexes.peek(space.pk).found
    checked = sorted(Contradiction.objects.values_list(*_STORED))
    consensus_recompute(space=space)
    assert checked == sorted(Contradiction.objects.values_list(*_STORED))
    assert {kind for kind, *_ in Contradiction.objects.values_list("kind")} == {
        "rule_overlap",
        "rule_example",
    }


def test_a_preview_after_a_write_counts_the_new_example(api, space, teacher, expert):
    """The examples are read once per revision of the space: a write makes the next preview
    read them again."""
    from teaching.services.examples import example_create

    def covers() -> tuple[int, int]:
        body = (
            api(teacher)
            .post(
                f"{S}/rules/preview",
                {"condition": "toss_height_cm > 60", "label": "toss in front"},
                format="json",
            )
            .json()
        )
        return body["covers"]["agreeing"], body["covers"]["disagreeing"]

    example_create(space=space, user=expert, features=row(toss_height_cm=70), label="no cue")
    assert covers() == (0, 1)
    assert covers() == (0, 1)  # the same revision: the same examples
    example_create(
        space=space, user=expert, features=row(toss_height_cm=100), label="toss in front"
    )
    assert covers() == (1, 1)


@pytest.mark.parametrize("directly", [500, 0], ids=["labelled-directly", "looked-up"])
def test_a_preview_counts_the_covered_examples_the_model_labels_otherwise(
    api, space, teacher, expert, monkeypatch, directly
):
    from consensus import preview
    from teaching.services.examples import examples_create
    from teaching.services.predict import load_model, serving_version
    from teaching.services.training import train_space

    monkeypatch.setattr(preview, "PREDICT_DIRECTLY", directly)
    rule_create(space=space, user=expert, condition="toss_height_cm > 90", label="toss in front")
    heights = [20, 40, 60, 80, 95, 110, 130, 140]
    examples_create(
        space=space,
        user=expert,
        items=[
            {"features": row(toss_height_cm=h), "label": "toss in front" if h > 90 else "no cue"}
            for h in heights
        ],
    )
    train_space(space_id=space.pk)
    space.refresh_from_db()
    body = (
        api(teacher)
        .post(
            f"{S}/rules/preview",
            {"condition": "toss_height_cm > 50", "label": "no cue"},
            format="json",
        )
        .json()
    )
    model = load_model(serving_version(space=space))
    covered = [h for h in heights if h > 50]
    expected = sum(
        1
        for label in model.predict(
            table_from_rows(space.schema, [row(toss_height_cm=h) for h in covered])
        )
        if label != "no cue"
    )
    assert expected > 0  # the model says "toss in front" above 90
    assert body["predictions_changed"] == expected


def test_a_check_planned_before_a_moderator_closed_a_thread_plans_again(space, teacher, expert):
    """The store compares outside the write lock; a resolution in between must not be undone."""
    from consensus import store
    from consensus.loading import current_index

    rule_create(space=space, user=teacher, condition="toss_height_cm > 60", label="toss in front")
    rule_create(space=space, user=expert, condition="toss_height_cm < 80", label="no cue")
    consensus_check(space_id=space.pk)
    _, current = current_index(space.pk)
    found, versions = current.found, current.versions
    plan = store.plan_store(
        space=space,
        found=found,
        versions=versions,
        revision=99,
        force=False,
        memory=store.StoreMemory(),
    )
    _dismiss_all(space)
    with pytest.raises(store._Superseded):
        store._write(space, plan, found, 99, 0.0, False)
    store.contradictions_store(space=space, found=found, versions=versions, revision=99)
    assert Contradiction.objects.get().status == "dismissed"
    assert not Rule.objects.filter(disputed=True).exists()
