"""A version's stored model: written as an artefact and the parts it names, read back whole.

A quick version's fitted forest is the refined version's (mola's learning/parts.py): stored
once per space (``ModelPart``), named by digest from each artefact that uses it, and taken
from memory by a process that already holds it rather than read and unpickled again.
"""

from __future__ import annotations

from teaching.models import ModelArtifact, ModelPart


def model_stored(model) -> tuple[bytes, dict]:
    """What ``ModelVersion.artifact`` and ``.artifact_parts`` are given for ``model``."""
    from mola.engine.learning import parts

    return parts.dump(model)


def model_read(version_id: int):
    """The TaughtModel stored for ``version_id`` (``ModelArtifact.DoesNotExist`` if none)."""
    from mola.engine.learning import parts

    data = ModelArtifact.objects.values_list("data", flat=True).get(version_id=version_id)
    return parts.load(bytes(data), lambda digest: _part(version_id, digest))


def _part(version_id: int, digest: str) -> bytes:
    return ModelPart.objects.values_list("data", flat=True).get(
        links__artifact_id=version_id, digest=digest
    )
