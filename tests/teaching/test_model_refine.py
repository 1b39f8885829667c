"""Quick, then refined: a write is served at once by a retrain that reuses the space's last
boosted trees, and shortly after by a full fit of the same revision (a refine) — which gives
way to any newer revision and never publishes over it."""

from __future__ import annotations

import logging
import threading

import numpy as np
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from mola.celery import app
from mola.engine.table import table_from_rows
from teaching.models import ModelPart, ModelStatus, ModelVersion, TrainingState
from teaching.services import snapshots
from teaching.services.examples import example_create, examples_create
from teaching.services.training import (
    REFINE_DELAY,
    refine_run,
    refine_schedule,
    retrain_want,
)
from tests.factories import SPACE_API as S
from tests.factories import row
from tests.worker import wait_for

pytestmark = pytest.mark.django_db(transaction=True)

LABELS = ("toss in front", "high elbow", "no cue")
MANY = 200


def _examples(n: int, start: int = 0) -> list[dict]:
    """Examples whose label follows boxes over the serve type, toss and elbow (trees suit
    them: with 200 the trees take part)."""
    items = []
    for i in range(start, start + n):
        toss, elbow = (i * 37) % 150, 60 + (i * 53) % 120
        kind = ("float", "jump", "underhand")[i % 3]
        if kind == "jump" and toss > 60:
            label = LABELS[0]
        elif kind != "underhand" and elbow > 120:
            label = LABELS[1]
        else:
            label = LABELS[2]
        features = row(toss_height_cm=toss, elbow_angle=elbow, serve_type=kind, fatigued=i % 7 == 0)
        items.append({"features": features, "label": label})
    return items


def _teach_many(space, user) -> int:
    _, revision = examples_create(space=space, user=user, items=_examples(MANY))
    return revision


def _served(client, revision: int, *, fresh: bool) -> dict:
    """Wait until GET /model serves ``revision`` with (or without) freshly fitted trees."""

    def serving():
        body = client.get(f"{S}/model").json()
        trees = body["metrics"].get("trees") or {}
        if body["teaching_revision"] == revision and trees.get("fresh") is fresh:
            return body
        return None

    return wait_for(serving, timeout=60, interval=0.02)


def _versions(space, revision: int) -> list[tuple[int, bool]]:
    """(version, fresh trees) of the ready versions of ``revision``, oldest first."""
    return [
        (version, metrics["trees"]["fresh"])
        for version, metrics in ModelVersion.objects.filter(
            space=space, teaching_revision=revision, status=ModelStatus.READY
        )
        .order_by("version")
        .values_list("version", "metrics")
    ]


@pytest.mark.worker
def test_a_write_is_served_quickly_then_refined(api, celery_worker, space, teacher):
    client = api(teacher)
    first = _teach_many(space, teacher)
    # No trees anywhere yet: the quick version has none, the refine fits them.
    quick = _served(client, first, fresh=False)
    assert quick["metrics"]["trees"]["fitted_at_revision"] is None
    refined = _served(client, first, fresh=True)
    assert refined["version"] > quick["version"]
    assert refined["metrics"]["trees"]["fitted_at_revision"] == first
    assert refined["metrics"]["parameters"]["tree_mass"] > 0  # the trees take part

    # The next write reuses those trees at once (whichever worker process trains it).
    added = client.post(f"{S}/examples", _examples(1, start=500)[0], format="json").json()
    revision = added["teaching_revision"]
    quick = _served(client, revision, fresh=False)
    assert quick["metrics"]["trees"]["fitted_at_revision"] == first
    assert quick["metrics"]["n_examples"] == MANY + 1
    refined = _served(client, revision, fresh=True)
    assert refined["metrics"]["trees"]["fitted_at_revision"] == revision

    # Both versions of the revision are listed, the refined one newest.
    listed = client.get(f"{S}/model/versions").json()["results"]
    of_revision = [v for v in listed if v["teaching_revision"] == revision]
    assert [v["version"] for v in of_revision] == [refined["version"], quick["version"]]
    assert _versions(space, revision) == [(quick["version"], False), (refined["version"], True)]


@pytest.fixture
def refines(monkeypatch) -> list[dict]:
    """Tasks run in this process (no worker, this test's or a session's, sees them); refines
    asked for are recorded instead of run, for the test to run when it chooses."""
    from teaching.tasks import refine_space

    asked: list[dict] = []
    monkeypatch.setattr(refine_space, "apply_async", lambda *args, **kwargs: asked.append(kwargs))
    app.conf.task_always_eager = True
    yield asked
    app.conf.task_always_eager = False


def _trained_quickly(space, teacher, refines) -> int:
    revision = _teach_many(space, teacher)  # its retrain runs at once (eager)
    assert _versions(space, revision) == [(1, False)]
    assert refines == [{"countdown": REFINE_DELAY}]
    return revision


def test_a_refine_publishes_a_newer_version_of_the_same_revision(refines, space, teacher):
    revision = _trained_quickly(space, teacher, refines)
    refined = refine_run(space_id=space.pk)
    assert refined is not None and refined.teaching_revision == revision
    assert _versions(space, revision) == [(1, False), (2, True)]
    assert refine_run(space_id=space.pk) is None  # refined already: nothing to do
    assert ModelVersion.objects.filter(space=space).count() == 2
    assert len(refines) == 1  # a refined version asks for no other


def test_each_version_says_where_its_time_went(refines, space, teacher):
    # Wall seconds per stage, and the same stages' CPU seconds (bench/retrain.py prints them).
    _trained_quickly(space, teacher, refines)
    refined = refine_run(space_id=space.pk)
    quick = ModelVersion.objects.get(space=space, version=1)
    stages = {"snapshot", "fit", "serialise", "evaluate", "publish"}
    assert stages | {"queue", "cpu"} <= set(quick.timings)
    assert stages | {"wait", "check", "claim", "cpu"} <= set(refined.timings)
    for version in (quick, refined):
        assert set(version.timings["cpu"]) >= stages
        assert version.timings["cpu"]["fit"] > 0
        staged = sum(version.timings[name] for name in version.timings["cpu"])
        assert staged == pytest.approx(version.training_seconds, abs=0.01)
    # The refine waited REFINE_DELAY after the quick version in a deployment; here it ran
    # when the test asked, after the quick version was published.
    assert refined.timings["wait"] >= 0


def test_a_worker_process_without_trees_takes_the_stored_ones(refines, space, teacher):
    revision = _trained_quickly(space, teacher, refines)
    refine_run(space_id=space.pk)
    snapshots._caches.clear()  # as another worker process sees it: no trees of its own
    _, newest = example_create(space=space, user=teacher, **_examples(1, start=800)[0])
    metrics = ModelVersion.objects.get(space=space, teaching_revision=newest).metrics
    assert metrics["trees"] == {"fresh": False, "fitted_at_revision": revision}
    assert metrics["parameters"]["tree_mass"] > 0


def test_a_quick_version_stores_no_forest_of_its_own(refines, space, teacher):
    """It names the refined version's forest, boosting member and examples' index (stored
    once per space: learning/parts.py) and a small delta of that index (an example more);
    a process that holds the refined model reads only the delta, and the quick version
    answers bit for bit as loaded alone."""
    from mola.engine.learning import parts
    from teaching.services.artefacts import model_read

    _trained_quickly(space, teacher, refines)
    refined = refine_run(space_id=space.pk)
    _, newest = example_create(space=space, user=teacher, **_examples(1, start=800)[0])
    quick = ModelVersion.objects.get(space=space, teaching_revision=newest)
    assert quick.metrics["trees"]["fresh"] is False

    def named(version) -> set[str]:
        return set(ModelPart.objects.filter(links__artifact_id=version.pk).values_list("digest"))

    shared = named(quick) & named(refined)  # forest, member, matcher, the index it changes
    assert len(named(refined)) == 4 and len(named(quick)) == 5 and len(shared) == 4
    stored = ModelPart.objects.filter(links__artifact_id=quick.pk).values_list("data", flat=True)
    assert len(quick.artifact) < sum(len(data) for data in stored) / 2  # most of a model
    (only,) = named(quick) - shared
    (delta,) = ModelPart.objects.filter(digest=only[0]).values_list("data", flat=True)
    assert len(delta) < 2_000  # one row, where the index has 200

    parts.forget()  # a web process: it serves the refined version, then loads the quick one
    served = model_read(refined.pk)
    with CaptureQueriesContext(connection) as reads:
        loaded = model_read(quick.pk)
    assert len([q for q in reads.captured_queries if "modelpart" in q["sql"]]) == 1
    assert loaded.trees_.model is served.trees_.model
    parts.forget()
    alone = model_read(quick.pk)
    assert alone.trees_.model is not served.trees_.model
    table = table_from_rows(space.schema, [item["features"] for item in _examples(60, 900)])
    np.testing.assert_array_equal(loaded.predict_proba(table), alone.predict_proba(table))
    assert [e.as_dict() for e in loaded.explain(table)] == [
        e.as_dict() for e in alone.explain(table)
    ]


def test_an_index_deltas_base_stays_through_retention(refines, space, teacher):
    """The quick version after an example write stores its index as a delta of the refined
    version's (learning/parts.py); pruning every version but it must leave the base its
    delta needs, and it loads alone as the process that published it holds it."""
    from mola.engine.learning import parts
    from teaching.services.artefacts import model_read
    from teaching.services.retention import versions_prune

    _trained_quickly(space, teacher, refines)
    refined = refine_run(space_id=space.pk)
    _, newest = example_create(space=space, user=teacher, **_examples(1, start=800)[0])
    newest = ModelVersion.objects.get(space=space, teaching_revision=newest)
    held = model_read(newest.pk)
    refined_parts = set(ModelPart.objects.filter(links__artifact_id=refined.pk))
    versions_prune(keep=1)
    assert list(ModelVersion.objects.filter(space=space)) == [newest]
    kept = set(ModelPart.objects.filter(links__artifact_id=newest.pk))
    assert len(kept) == 5 and len(kept & refined_parts) == 4  # the delta and its base
    assert set(ModelPart.objects.filter(space=space)) == kept
    parts.forget()  # a process that holds nothing
    alone = model_read(newest.pk)
    table = table_from_rows(space.schema, [item["features"] for item in _examples(60, 900)])
    np.testing.assert_array_equal(held.predict_proba(table), alone.predict_proba(table))
    assert [e.as_dict() for e in held.explain(table)] == [e.as_dict() for e in alone.explain(table)]


def test_a_write_during_a_refine_makes_it_give_way(refines, space, teacher, caplog):
    caplog.set_level(logging.INFO, logger="teaching.services.training")
    revision = _trained_quickly(space, teacher, refines)

    def write():
        try:  # the write, and (eager) its quick retrain
            example_create(space=space, user=teacher, **_examples(1, start=700)[0])
        finally:
            connection.close()

    writes = []

    def write_while_fitting(execute, sql, params, many, context):
        # The refine asks whether a newer revision is wanted before each tree fit: the
        # first time, a teacher writes (another connection) just before it asks.
        asks = sql.startswith('SELECT "teaching_trainingstate"."wanted_revision"')
        if asks and not writes:
            writes.append(threading.Thread(target=write))
            writes[0].start()
            writes[0].join()
        return execute(sql, params, many, context)

    with connection.execute_wrapper(write_while_fitting):
        assert refine_run(space_id=space.pk) is None
    assert writes and "gave way to a newer revision" in caplog.text  # between its tree fits
    assert _versions(space, revision) == [(1, False)]  # gave up: nothing published

    # The newer revision was served quickly meanwhile; its own refine wins in the end.
    newest = TrainingState.objects.get(space=space).trained_revision
    assert newest > revision and _versions(space, newest) == [(2, False)]
    assert refine_run(space_id=space.pk).teaching_revision == newest
    assert _versions(space, newest) == [(2, False), (3, True)]


def test_a_refine_never_publishes_once_a_newer_revision_is_wanted(refines, space, teacher):
    revision = _trained_quickly(space, teacher, refines)
    retrain_want(space_id=space.pk, revision=revision + 1)  # a write, not trained yet
    assert refine_run(space_id=space.pk) is None
    assert _versions(space, revision) == [(1, False)]


def test_refines_asked_for_in_a_burst_are_one_task(refines, space):
    for _ in range(5):
        refine_schedule(space_id=space.pk)
    assert refines == [{"countdown": REFINE_DELAY}]
    refine_run(space_id=space.pk)  # the pending one starts: the next quick version asks again
    refine_schedule(space_id=space.pk)
    assert len(refines) == 2
