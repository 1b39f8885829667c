"""Bounded retention of model versions: the newest ``keep`` of a space stay, with the serving
version and any still training; older ones go with their artifacts."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from teaching.models import ModelArtifact, ModelPart, ModelStatus, ModelVersion
from teaching.services.retention import versions_prune


def _versions(space, statuses: list[str]) -> None:
    for number, status in enumerate(statuses, start=1):
        version = ModelVersion(space=space, version=number, teaching_revision=number, status=status)
        version.artifact = b"model %d" % number if status == ModelStatus.READY else None
        version.save()


def _numbers(space) -> list[int]:
    return sorted(ModelVersion.objects.filter(space=space).values_list("version", flat=True))


def test_only_the_newest_versions_stay_with_their_artifacts(space):
    _versions(space, [ModelStatus.READY] * 8)
    assert versions_prune(keep=3) == 5
    assert _numbers(space) == [6, 7, 8]
    kept = ModelArtifact.objects.values_list("version__version", flat=True)
    assert sorted(kept) == [6, 7, 8]
    assert versions_prune(keep=3) == 0  # nothing more to prune


def test_the_serving_version_and_a_training_one_are_never_pruned(space):
    ready, failed = ModelStatus.READY, ModelStatus.FAILED
    # Version 2 serves: every newer training failed (or still runs).
    _versions(space, [ready, ready, ModelStatus.TRAINING, failed, failed, failed, failed])
    versions_prune(keep=2)
    assert _numbers(space) == [2, 3, 6, 7]
    assert ModelArtifact.objects.filter(version__space=space).count() == 1


def test_zero_keeps_every_version(space, settings):
    _versions(space, [ModelStatus.READY] * 4)
    settings.MODEL_VERSIONS_KEPT = 0
    assert versions_prune() == 0 and _numbers(space) == [1, 2, 3, 4]


def _named(space, number: int, forest: str) -> None:
    version = ModelVersion(
        space=space, version=number, teaching_revision=number, status=ModelStatus.READY
    )
    version.artifact = b"model %d" % number
    version.artifact_parts = {forest: forest.encode}
    version.save()


def test_a_part_stays_while_a_kept_artefact_names_it(space):
    # A refined version stores its forest (a part); the quick versions after it name it.
    forests = ["forest A"] * 4 + ["forest B"] * 2
    for number, forest in enumerate(forests, start=1):
        _named(space, number, forest)
    stored = ModelPart.objects.filter(space=space)
    assert sorted(stored.values_list("digest", flat=True)) == ["forest A", "forest B"]
    versions_prune(keep=3)  # 4 (forest A), 5 and 6 stay
    assert sorted(stored.values_list("digest", flat=True)) == ["forest A", "forest B"]
    with CaptureQueriesContext(connection) as queries:
        versions_prune(keep=2)
    assert list(stored.values_list("digest", "data")) == [("forest B", b"forest B")]
    # Nor are the megabytes of what goes read.
    assert not [q for q in queries.captured_queries if '"data"' in q["sql"]]
    # A worker that still holds forest A (its fit cache) names it again: stored again.
    _named(space, 7, "forest A")
    assert sorted(stored.values_list("digest", flat=True)) == ["forest A", "forest B"]
    space.delete()  # its parts go with it
    assert not ModelPart.objects.exists()
