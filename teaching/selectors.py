"""Reads about spaces, members and teachings."""

from __future__ import annotations

from typing import Any

from django.core.cache import cache
from django.db.models import Count, QuerySet

from mola.engine.table import validate_row
from mola.errors import NotFound
from teaching.models import (
    LIVE_STATUSES,
    TEACHING_MODELS,
    Membership,
    ModelStatus,
    ModelVersion,
    Rule,
    Space,
    SpaceApiKey,
    Status,
    Teaching,
    TeachingRevision,
    TrainingState,
)
from teaching.services import traffic
from teaching.services.serving import shown as served


def memberships_of(*, user) -> QuerySet[Membership]:
    return Membership.objects.filter(user=user).select_related("space").order_by("space__slug")


def space_list() -> QuerySet[Space]:
    return Space.objects.annotate(member_count=Count("memberships")).order_by("slug")


def space_get(*, slug: str) -> Space:
    space = space_list().filter(slug=slug).first()
    if space is None:
        raise NotFound(f"No space {slug!r}.")
    return space


def member_list(*, space: Space) -> QuerySet[Membership]:
    return Membership.objects.filter(space=space).select_related("user")


def teaching_list(*, space: Space, kind: str, filters: dict[str, str]) -> QuerySet[Teaching]:
    """Teachings of one kind, newest first, filtered by status, author, label, disputed."""
    queryset = TEACHING_MODELS[kind].objects.filter(space=space).select_related("author")
    if filters.get("status"):
        queryset = queryset.filter(status__in=filters["status"].split(","))
    if filters.get("author"):
        queryset = queryset.filter(author__username=filters["author"])
    if filters.get("label") and kind != "concept":
        queryset = queryset.filter(label=filters["label"])
    if filters.get("disputed") in ("true", "false"):
        queryset = queryset.filter(disputed=filters["disputed"] == "true")
    if kind == "example" and filters.get("evaluation") in ("true", "false"):
        queryset = queryset.filter(evaluation=filters["evaluation"] == "true")
    if kind == "example" and filters.get("refutes"):
        queryset = queryset.filter(refutes_id=filters["refutes"])
    return queryset.order_by("-id")


def teachings_by_id(*, space: Space, kind: str, ids: list[int]) -> list[Teaching]:
    """The space's teachings of ``kind`` among ``ids``, in the order of ``ids``."""
    found = TEACHING_MODELS[kind].objects.filter(space=space, pk__in=ids).select_related("author")
    by_id = {teaching.pk: teaching for teaching in found}
    return [by_id[pk] for pk in ids if pk in by_id]


def live_rules(*, space: Space) -> QuerySet[Rule]:
    return (
        Rule.objects.filter(space=space, status__in=LIVE_STATUSES)
        .select_related("author")
        .order_by("label", "id")
    )


def teaching_counts(*, space: Space) -> dict[str, int]:
    """Live teachings of each kind."""
    return {
        kind: model.objects.filter(space=space, status__in=LIVE_STATUSES).count()
        for kind, model in TEACHING_MODELS.items()
    }


def recent_revisions(*, space: Space, limit: int = 15) -> QuerySet[TeachingRevision]:
    return (
        TeachingRevision.objects.filter(space=space)
        .select_related("author")
        .order_by("-revision", "-id")[:limit]
    )


def member_get(*, space: Space, username: str) -> Membership | None:
    return (
        Membership.objects.filter(space=space, user__username=username)
        .select_related("user", "expertise_verified_by")
        .first()
    )


def member_teachings(*, space: Space, user, limit: int = 25) -> dict[str, Any]:
    """A member's teachings by kind (newest first) and counts by status."""
    result: dict[str, Any] = {"counts": {}, "items": {}}
    for kind, model in TEACHING_MODELS.items():
        mine = model.objects.filter(space=space, author=user)
        result["counts"][kind] = {
            status: mine.filter(status=status).count() for status in Status.values
        }
        result["items"][kind] = list(mine.order_by("-id")[:limit])
    return result


def example_authors(*, space: Space) -> list[str]:
    """Usernames of everyone who taught the space an example."""
    return teaching_authors(space=space, kind="example")


def teaching_authors(*, space: Space, kind: str) -> list[str]:
    """Usernames of everyone who taught the space a teaching of ``kind``."""
    model = TEACHING_MODELS[kind]
    return sorted(set(model.objects.filter(space=space).values_list("author__username", flat=True)))


def teaching_history(*, space: Space, kind: str, teaching_id: int) -> QuerySet[TeachingRevision]:
    return (
        TeachingRevision.objects.filter(space=space, kind=kind, teaching_id=teaching_id)
        .select_related("author")
        .order_by("revision", "id")
    )


def model_status(*, space: Space) -> dict:
    """What ``GET /model`` says: the serving version and whether a training is under way."""
    # Not the teachings list (100,000 example ids at L, parsed for nothing: 27 ms a call).
    serving = (
        ModelVersion.objects.filter(space=space, status=ModelStatus.READY)
        .defer("teachings", "timings")
        .order_by("-teaching_revision", "-version")
        .first()
    )
    serving = served(space, serving)  # the one this process answers with
    state = TrainingState.objects.filter(space=space).first()
    last = (
        ModelVersion.objects.filter(space=space)
        .only("id", "version", "status", "teaching_revision", "error")
        .order_by("-version")
        .first()
    )
    if state and (state.running_since or state.wanted_revision > state.trained_revision):
        status = "training"
    elif (
        last is not None
        and last.status == ModelStatus.FAILED
        and last != serving
        and (serving is None or last.teaching_revision > serving.teaching_revision)
    ):
        status = "failed"
    elif serving is not None:
        status = "ready"
    else:
        status = "untrained"
    return {
        "version": serving.version if serving else None,
        "status": status,
        "teaching_revision": serving.teaching_revision if serving else None,
        "latest_teaching_revision": space.teaching_revision,
        "trained_at": serving.trained_at if serving else None,
        "training_seconds": serving.training_seconds if serving else None,
        "metrics": serving.metrics if serving else {},
        "contributors": serving.contributors if serving else [],
        "error": last.error if status == "failed" else "",
    }


def version_list(*, space: Space):
    return ModelVersion.objects.filter(space=space).order_by("-version")


def version_get(*, space: Space, version: int):
    found = ModelVersion.objects.filter(space=space, version=version).first()
    if found is None:
        raise NotFound(f"No model version {version} in {space.slug}.")
    return found


def api_key_list(*, space: Space) -> QuerySet[SpaceApiKey]:
    """The space's client keys, newest first (never the keys themselves: only their prefix)."""
    return SpaceApiKey.objects.filter(space=space).select_related("created_by").order_by("-created")


def recent_inputs(*, space: Space) -> list[dict]:
    """A sample of the newest prediction inputs of the space that still fit its schema
    (oldest first; at most ``traffic.RECENT_MAX``), this process's unwritten ones included."""
    traffic.flush()
    rows = cache.get(traffic.recent_inputs_key(space.pk)) or []
    schema = space.schema
    return [row for row in rows if isinstance(row, dict) and not validate_row(schema, row)]
