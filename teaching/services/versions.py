"""A moderator publishes a version a check held back (``teaching.signals.version_hold``)."""

from __future__ import annotations

from django.db import transaction

from mola.errors import Conflict, NotFound
from teaching.models import ModelStatus, ModelVersion, Space
from teaching.services.access import check_moderator
from teaching.signals import decision_record


def version_publish_held(*, space: Space, user, version: int) -> ModelVersion:
    """Publish the held ``version`` of ``space``: it serves from now on, unless a version of
    a newer teaching revision is published (then 409: it would never serve).

    Preconditions: ``user`` moderates the space (403 first); the version is held (409).
    Audited through ``decision_taken``.
    """
    check_moderator(space=space, user=user)
    with transaction.atomic():
        found = (
            ModelVersion.objects.select_for_update()
            .filter(space=space, version=version)
            .defer("teachings")
            .first()
        )
        if found is None:
            raise NotFound(f"No model version {version} in {space.slug}.", field="version")
        if found.status != ModelStatus.HELD:
            raise Conflict(f"Version {version} is {found.status}, not held.", code="not_held")
        newer = ModelVersion.objects.filter(
            space=space, status=ModelStatus.READY, teaching_revision__gt=found.teaching_revision
        ).exists()
        if newer:
            raise Conflict(
                "A version of a newer teaching revision serves already; this one never would.",
                code="superseded",
            )
        found.status = ModelStatus.READY
        found.save(update_fields=["status"])
        decision_record(
            space=space,
            actor=user,
            action="publish_held_version",
            target={"type": "model_version", "id": found.version},
            note=found.held_because,
        )
    return found
