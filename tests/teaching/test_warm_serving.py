"""Warm serving: a web process loads a newly published version before a client asks for it
(teaching/services/serving.py), through a real worker's publish and its notice."""

import threading

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from teaching.models import ModelVersion
from teaching.services import serving
from tests.factories import SPACE_API as S
from tests.factories import row
from tests.worker import wait_for


def _artifact_reads(queries) -> list[str]:
    return [q["sql"] for q in queries if "model_artifact" in q["sql"].lower()]


def _trained(client, revision: int) -> dict:
    def ready():
        body = client.get(f"{S}/model").json()
        return body if (body["teaching_revision"] or 0) >= revision else None

    return wait_for(ready, timeout=90)


def _watcher_held(monkeypatch) -> threading.Event:
    """Hold the serving watcher's loads back until the returned event is set."""
    loading = threading.Event()
    load_announced = serving._watcher._load_announced
    monkeypatch.setattr(
        serving._watcher, "_load_announced", lambda: loading.is_set() and load_announced()
    )
    return loading


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_published_version_is_loaded_before_the_first_client_asks(
    api, celery_worker, space, teacher, api_key
):
    client, reader = api(teacher), api(api_key)
    first = client.post(f"{S}/rules", {"condition": "fatigued", "label": "no cue"}, format="json")
    _trained(client, first.json()["teaching_revision"])
    answer = reader.post(f"{S}/predict", {"instances": [row()]}, format="json").json()
    assert answer["teaching_revision"] == 1  # this process now answers for the space

    second = client.post(
        f"{S}/rules", {"condition": "toss_height_cm > 90", "label": "toss in front"}, format="json"
    ).json()
    published = wait_for(
        lambda: ModelVersion.objects.filter(
            space=space, status="ready", teaching_revision=second["teaching_revision"]
        ).first(),
        timeout=90,
    )
    # No request is made: the worker's notice alone gets the version loaded and warmed up
    # (its explanation tables built) in this process.
    model = wait_for(lambda: serving._loaded(published.pk), timeout=30)
    assert model._explainer_cache is not None

    with CaptureQueriesContext(connection) as queries:
        answer = reader.post(
            f"{S}/predict", {"instances": [row(toss_height_cm=120)]}, format="json"
        ).json()
    assert answer["teaching_revision"] == second["teaching_revision"]
    assert answer["predictions"][0]["label"] == "toss in front"
    assert _artifact_reads(queries.captured_queries) == []  # no client paid a load


@pytest.mark.django_db(transaction=True)
def test_the_held_version_answers_while_the_newer_one_loads_then_the_newer(
    api, space, teacher, api_key, settings, monkeypatch
):
    from teaching.services.rules import rule_create
    from teaching.services.training import train_space

    def newest():
        return ModelVersion.objects.filter(space=space, status="ready").latest("version")

    def predicted():
        answer = reader.post(f"{S}/predict", {"instances": [row()]}, format="json")
        assert answer.status_code == 200, answer.json()
        return answer.json()["model_version"]

    rule_create(space=space, user=teacher, condition="fatigued", label="no cue")
    train_space(space_id=space.pk)
    reader = api(api_key)
    assert predicted() == 1  # this process holds version 1
    # The watcher (started by the first prediction) is held back until the request below
    # has answered: polling every 25 ms it could load the new version first, and the
    # request would then rightly answer with it.
    loading = _watcher_held(monkeypatch)
    rule_create(space=space, user=teacher, condition="toss_height_cm > 90", label="toss in front")
    train_space(space_id=space.pk)
    second = newest()
    serving._models.pop(second.pk)  # as if fitted in another process (a worker)
    with CaptureQueriesContext(connection) as queries:
        assert predicted() == 1 < second.version  # the request does not wait for the load
    assert _artifact_reads(queries.captured_queries) == []

    loading.set()
    wait_for(lambda: serving._loaded(second.pk), timeout=30)  # the watcher loads it
    assert predicted() == second.version
    assert reader.get(f"{S}/model").json()["version"] == second.version

    # Past the catch-up bound a request loads the newest itself rather than answer older.
    settings.SERVING_CATCH_UP_SECONDS = 0
    rule_create(space=space, user=teacher, condition="elbow_angle > 150", label="high elbow")
    train_space(space_id=space.pk)
    third = newest()
    serving._models.pop(third.pk)
    assert predicted() == third.version > second.version


def test_a_watcher_reads_its_spaces_notices_only_when_the_latest_one_moved():
    watcher = serving.Watcher()
    serving.announce(space_id=1, version_id=101)
    assert watcher._news()  # a notice since it last looked
    quiet = [watcher._news() for _ in range(serving.FULL_READ_EVERY - 1)]
    assert quiet == [False] * (serving.FULL_READ_EVERY - 1)
    assert watcher._news()  # the full read, in case a write of the latest key was lost
    assert not watcher._news()
    serving.announce(space_id=2, version_id=102)  # any space's notice moves it
    assert watcher._news()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("rung", [True, False], ids=["rung", "ring lost"])
def test_a_notice_wakes_the_watcher_and_a_lost_one_is_still_polled(
    api, space, teacher, api_key, settings, monkeypatch, rung
):
    """Without Redis the publisher rings the watchers' doorbells (mola.doorbell): the
    watcher loads the version at once, even with a poll too slow to find it; a ring that
    is lost leaves the version to the poll of the cache's notice."""
    from mola import doorbell
    from teaching.services.rules import rule_create
    from teaching.services.training import train_space

    if settings.REDIS_URL:
        pytest.skip("with Redis a notice is published on its channel, no doorbell is rung")
    rule_create(space=space, user=teacher, condition="fatigued", label="no cue")
    train_space(space_id=space.pk)
    reader = api(api_key)
    assert reader.post(f"{S}/predict", {"instances": [row()]}, format="json").status_code == 200
    wait_for(lambda: serving._watcher._bell is not None)
    settings.SERVING_POLL_SECONDS = 60 if rung else 0.025
    serving._watcher._bell.wake()  # its next wait has the poll set here
    ring = doorbell.ring
    monkeypatch.setattr(doorbell, "ring", lambda folder, message: 0)  # no ring: lost
    rule_create(space=space, user=teacher, condition="toss_height_cm > 90", label="toss in front")
    train_space(space_id=space.pk)
    second = ModelVersion.objects.filter(space=space, status="ready").latest("version")
    serving._models.pop(second.pk)  # as if fitted in another process (a worker)
    if rung:
        monkeypatch.setattr(doorbell, "ring", ring)
        serving.announce(space_id=space.pk, version_id=second.pk)
    try:
        wait_for(lambda: serving._loaded(second.pk), timeout=10)
    finally:
        settings.SERVING_POLL_SECONDS = 0.025
        serving._watcher._bell.wake()  # out of the long wait, for the tests after this one
    assert reader.get(f"{S}/model").json()["version"] == second.version


@pytest.mark.django_db(transaction=True)
def test_get_model_waits_a_moment_for_the_version_being_loaded(
    api, space, teacher, api_key, monkeypatch
):
    """GET /model, asked while the watcher loads the newest version, reports it once it is
    held (serving.SHOW_WAIT_SECONDS) — never before — and the one held past that wait."""
    import time

    from teaching.services.rules import rule_create
    from teaching.services.training import train_space

    rule_create(space=space, user=teacher, condition="fatigued", label="no cue")
    train_space(space_id=space.pk)
    reader = api(api_key)
    assert reader.post(f"{S}/predict", {"instances": [row()]}, format="json").status_code == 200
    loading = _watcher_held(monkeypatch)
    rule_create(space=space, user=teacher, condition="toss_height_cm > 90", label="toss in front")
    train_space(space_id=space.pk)
    second = ModelVersion.objects.filter(space=space, status="ready").latest("version")
    serving._models.pop(second.pk)  # as if fitted in another process (a worker)

    monkeypatch.setattr(serving, "SHOW_WAIT_SECONDS", 0.05)
    started = time.monotonic()
    assert reader.get(f"{S}/model").json()["version"] == 1  # not loaded within the wait
    assert time.monotonic() - started >= 0.05

    monkeypatch.setattr(serving, "SHOW_WAIT_SECONDS", 30)
    threading.Timer(0.2, loading.set).start()  # the watcher loads it while GET waits
    assert reader.get(f"{S}/model").json()["version"] == second.version
    assert serving._loaded(second.pk) is not None
    assert (
        reader.post(f"{S}/predict", {"instances": [row()]}, format="json").json()["model_version"]
        == second.version
    )
