"""What every teaching write shares: status by trust, revisions, events."""

from __future__ import annotations

from django.db import transaction

from mola.errors import Conflict, NotFound
from teaching.models import (
    LIVE_STATUSES,
    TEACHING_MODELS,
    Action,
    Expertise,
    Membership,
    Space,
    Status,
    Teaching,
)
from teaching.services.access import check_can_edit
from teaching.services.events import teaching_changed
from teaching.services.revisions import revision_bump, revision_record, space_lock


def initial_status(*, space: Space, membership: Membership) -> Status:
    """A novice's teaching waits for endorsement when the space reviews novices."""
    if (
        space.reviews_novices
        and membership.expertise == Expertise.NOVICE
        and not membership.moderates
    ):
        return Status.PROPOSED
    return Status.ACTIVE


def teaching_get(*, space: Space, kind: str, teaching_id: int) -> Teaching:
    model = TEACHING_MODELS[kind]
    teaching = model.objects.filter(space=space, pk=teaching_id).select_related("author").first()
    if teaching is None:
        raise NotFound(f"No {kind} #{teaching_id} in {space.slug}.")
    return teaching


def locked_teaching(*, space: Space, kind: str, teaching_id: int) -> tuple[Space, Teaching]:
    """Inside a transaction: lock the space, then load the teaching fresh."""
    space = space_lock(space_id=space.pk)
    return space, teaching_get(space=space, kind=kind, teaching_id=teaching_id)


def editable_teaching(*, space: Space, kind: str, teaching_id: int, user) -> tuple[Space, Teaching]:
    """Inside a transaction: the locked space and the teaching ``user`` is about to edit — its
    author's or a moderator's (403 otherwise), and live (409 otherwise: revert it first)."""
    space, teaching = locked_teaching(space=space, kind=kind, teaching_id=teaching_id)
    check_can_edit(teaching=teaching, user=user)
    if teaching.status not in LIVE_STATUSES:
        raise Conflict(f"Only a live {kind} can be edited; revert it first.", code="not_live")
    return space, teaching


def commit_change(
    *, space: Space, teachings: list[Teaching], action: Action, author, note: str = ""
) -> int:
    """Bump the revision, record one revision per teaching, schedule what follows."""
    revision = revision_bump(space=space)
    for teaching in teachings:
        revision_record(
            teaching=teaching, revision=revision, action=action, author=author, note=note
        )
    teaching_changed(space_id=space.pk, revision=revision, refs=[(t.kind, t.pk) for t in teachings])
    return revision


def teaching_retire(*, space: Space, kind: str, teaching_id: int, user) -> tuple[Teaching, int]:
    """Retire a teaching (history kept). A concept that live teachings use is refused."""
    with transaction.atomic():
        space, teaching = locked_teaching(space=space, kind=kind, teaching_id=teaching_id)
        check_can_edit(teaching=teaching, user=user)
        if teaching.status not in LIVE_STATUSES:
            raise Conflict(f"This {kind} is {teaching.status} already.", code="not_live")
        concept_in_use_check(space=space, teaching=teaching)
        teaching.status = Status.RETIRED
        teaching.save(update_fields=["status", "updated_at"])
        revision = commit_change(
            space=space, teachings=[teaching], action=Action.RETIRE, author=user
        )
    return teaching, revision


def concept_in_use_check(
    *,
    space: Space,
    teaching: Teaching,
    retiring: frozenset[tuple[str, int]] = frozenset(),
    field: str | None = None,
) -> None:
    """Refuse to retire a concept that live teachings use (409 naming them); teachings in
    ``retiring`` go with it and do not count."""
    if teaching.kind != "concept":
        return
    from teaching.services.concepts import concept_dependents

    dependents = [
        d
        for d in concept_dependents(space=space, name=teaching.name)
        if (d["type"], d["id"]) not in retiring
    ]
    if dependents:
        raise Conflict(
            f"Concept {teaching.name!r} is used by other teachings; change them (or merge the "
            "concept) first.",
            code="concept_in_use",
            field=field,
            teachings=dependents,
        )
