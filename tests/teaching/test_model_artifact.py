"""A version's pickled model lives in its own table: reading a version's metadata never
touches it, loading a model does, and the migration carries existing artifacts both ways."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test.utils import CaptureQueriesContext

from teaching.models import ModelArtifact, ModelStatus, ModelVersion
from teaching.services.training import train_space
from tests.factories import SPACE_API as S
from tests.factories import row


@pytest.mark.django_db
def test_version_metadata_is_read_without_the_artifact(api, space, teacher, api_key):
    api(teacher).post(f"{S}/rules", {"condition": "fatigued", "label": "no cue"}, format="json")
    train_space(space_id=space.pk)
    version = ModelVersion.objects.get(space=space, status=ModelStatus.READY)
    assert len(ModelArtifact.objects.get(version=version).data) > 1000
    client = api(api_key)
    with CaptureQueriesContext(connection) as reads:
        assert client.get(f"{S}/model").status_code == 200
        assert client.get(f"{S}/model/versions").status_code == 200
        assert client.get(f"{S}/model/versions/{version.version}").status_code == 200
        assert api(teacher).get(f"{S}/contributors").status_code == 200
    assert not [q["sql"] for q in reads.captured_queries if "modelartifact" in q["sql"]]

    with CaptureQueriesContext(connection) as reads:
        answer = client.post(f"{S}/predict", {"instances": [row(fatigued=True)]}, format="json")
    assert answer.json()["predictions"][0]["label"] == "no cue"
    assert [q for q in reads.captured_queries if "modelartifact" in q["sql"]]  # loaded once


@pytest.mark.django_db
def test_an_artifact_set_on_a_version_is_stored_with_it_and_read_back(space):
    version = ModelVersion(space=space, version=1, teaching_revision=1, status="training")
    version.save()
    assert not ModelArtifact.objects.exists()
    version.artifact = b"model bytes"
    version.status = ModelStatus.READY
    version.save()
    assert ModelArtifact.objects.get(version=version).data == b"model bytes"
    assert bytes(ModelVersion.objects.get(pk=version.pk).artifact) == b"model bytes"
    version.save(update_fields=["status"])  # saving again does not write it again
    assert ModelArtifact.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_migration_moves_artifacts_out_and_back(owner):
    before, after = [("teaching", "0001_initial")], [("teaching", "0002_model_artifact_table")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    try:
        apps = executor.loader.project_state(before).apps
        Space = apps.get_model("teaching", "Space")
        Version = apps.get_model("teaching", "ModelVersion")
        space = Space.objects.create(
            slug="old", name="Old", features=[], labels=[], created_by_id=owner.pk
        )
        common = {"space": space, "teaching_revision": 1}
        Version.objects.create(version=1, status="ready", artifact=b"\x00" * 300_000, **common)
        Version.objects.create(version=2, status="failed", artifact=None, **common)

        executor = MigrationExecutor(connection)
        executor.migrate(after)
        apps = executor.loader.project_state(after).apps
        moved = apps.get_model("teaching", "ModelArtifact").objects.values_list(
            "version__version", "data"
        )
        assert [(v, bytes(d)) for v, d in moved] == [(1, b"\x00" * 300_000)]

        executor = MigrationExecutor(connection)
        executor.migrate(before)
        apps = executor.loader.project_state(before).apps
        back = apps.get_model("teaching", "ModelVersion").objects.order_by("version")
        assert [(v.version, v.artifact and bytes(v.artifact)) for v in back] == [
            (1, b"\x00" * 300_000),
            (2, None),
        ]
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_a_publish_checkpoints_sqlites_log_after_its_announce(api, space, teacher, monkeypatch):
    """SQLite copies its log back in the commit that crosses ``wal_autocheckpoint``: with a
    ~5 MB artefact, every publish's commit (before its announce). The threshold is raised
    and the worker checkpoints once it has announced and released its claim
    (mola.db.checkpoint): until the release, GET /model says "training"."""
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's write-ahead log")
    from teaching.services import serving
    from teaching.services.training import queue

    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_autocheckpoint")
        assert cursor.fetchone()[0] == 16384
    api(teacher).post(f"{S}/rules", {"condition": "fatigued", "label": "no cue"}, format="json")
    events = []
    announce = serving.announce
    monkeypatch.setattr(
        serving, "announce", lambda **kw: (events.append("announce"), announce(**kw))
    )

    def noted(execute, sql, params, many, context):
        if "wal_checkpoint" in sql:
            events.append("checkpoint")
        return execute(sql, params, many, context)

    release = queue.claim_release
    monkeypatch.setattr(queue, "claim_release", lambda *a: (events.append("release"), release(*a)))
    with connection.execute_wrapper(noted):
        assert queue.retrain_run(space_id=space.pk) == 1
    assert events == ["announce", "release", "checkpoint"]


@pytest.mark.postgres
@pytest.mark.django_db
def test_postgresql_compresses_artifacts_with_lz4():
    """pglz made a ~5 MB artefact's INSERT ~4 × slower than lz4 (migration 0006)."""
    if connection.vendor != "postgresql" or connection.pg_version < 140000:
        pytest.skip("PostgreSQL 14+: per-column compression")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT attcompression FROM pg_attribute"
            " WHERE attrelid = 'teaching_modelartifact'::regclass AND attname = 'data'"
        )
        assert cursor.fetchone()[0] == "l"
