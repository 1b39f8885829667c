"""Going back: revert one teaching to an earlier revision; roll back a member's changes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction

from mola.errors import InvalidInput, MolaError, NotFound
from teaching.models import (
    LIVE_STATUSES,
    Action,
    Concept,
    Example,
    Rule,
    Space,
    Status,
    Teaching,
    TeachingRevision,
)
from teaching.services.access import check_can_edit, check_moderator
from teaching.services.common import commit_change, concept_in_use_check, locked_teaching
from teaching.services.concepts import _check_definition, _check_name
from teaching.services.examples import example_check
from teaching.services.revisions import space_lock
from teaching.services.rules import rule_check
from teaching.signals import decision_record


def _restore(space: Space, teaching: Teaching, content: dict[str, Any]) -> None:
    """Put ``content`` back on ``teaching`` after checking it still fits the space.

    The world may have moved on since that revision (schema edits, renamed concepts), so a
    restored live teaching is validated like a new one.
    """
    if content["status"] in LIVE_STATUSES:
        if isinstance(teaching, Concept):
            _check_name(space, content["name"], exclude_id=teaching.pk)
            _check_definition(space, content["name"], content["definition"], old_name=teaching.name)
        elif isinstance(teaching, Rule):
            rule_check(space=space, condition=content["condition"], label=content["label"])
        else:
            example_check(
                space=space,
                features=content["features"],
                label=content["label"],
                refutes=content["refutes"],
            )
    elif isinstance(teaching, Concept) and teaching.status in LIVE_STATUSES:
        concept_in_use_check(space=space, teaching=teaching)  # going back retires it
    for field, value in content.items():
        setattr(teaching, "refutes_id" if field == "refutes" else field, value)
    teaching.save()


def teaching_revert(
    *, space: Space, kind: str, teaching_id: int, user, revision: int
) -> tuple[Teaching, int]:
    """Make a teaching what it was at ``revision`` of its history, as a new revision."""
    with transaction.atomic():
        space, teaching = locked_teaching(space=space, kind=kind, teaching_id=teaching_id)
        check_can_edit(teaching=teaching, user=user)
        target = TeachingRevision.objects.filter(
            space=space, kind=kind, teaching_id=teaching.pk, revision=revision
        ).first()
        if target is None:
            raise NotFound(f"This {kind} has no revision {revision}.", field="revision")
        _restore(space, teaching, target.content)
        new_revision = commit_change(
            space=space,
            teachings=[teaching],
            action=Action.REVERT,
            author=user,
            note=f"reverted to revision {revision}",
        )
    return teaching, new_revision


def member_rollback(
    *, space: Space, user, username: str, since: datetime | None = None
) -> tuple[list[Teaching], int | None]:
    """Undo every teaching revision ``username`` made in the space (since a time).

    Each touched teaching goes back to its last revision by someone else before the
    member's first change in range; a teaching the member created is retired. One
    transaction, one revision: all of it lands, or none.
    """
    check_moderator(space=space, user=user)
    member = get_user_model().objects.filter(username=username).first()
    if member is None:
        raise NotFound(f"No user {username!r}.", field="username")
    with transaction.atomic():
        space = space_lock(space_id=space.pk)
        theirs = TeachingRevision.objects.filter(space=space, author=member)
        if since is not None:
            theirs = theirs.filter(created_at__gte=since)
        first_change: dict[tuple[str, int], int] = {}
        for kind, teaching_id, revision in theirs.order_by("revision").values_list(
            "kind", "teaching_id", "revision"
        ):
            first_change.setdefault((kind, teaching_id), revision)
        touched: list[Teaching] = []
        # Concepts last: restoring rules first frees the concepts they named.
        order = {"example": 0, "rule": 1, "concept": 2}
        for (kind, teaching_id), revision in sorted(
            first_change.items(), key=lambda item: order[item[0][0]]
        ):
            teaching = {"concept": Concept, "rule": Rule, "example": Example}[kind].objects.get(
                pk=teaching_id
            )
            before = (
                TeachingRevision.objects.filter(
                    space=space, kind=kind, teaching_id=teaching_id, revision__lt=revision
                )
                .order_by("-revision", "-id")
                .first()
            )
            content = dict(before.content) if before else {"status": Status.RETIRED}
            if before is None and teaching.status not in LIVE_STATUSES:
                continue
            try:
                _restore(space, teaching, content)
            except MolaError as exc:
                raise InvalidInput(
                    f"Rollback stopped at {kind} #{teaching_id}: {exc}", code="rollback_blocked"
                ) from exc
            touched.append(teaching)
        if not touched:
            return [], None
        revision = commit_change(
            space=space,
            teachings=touched,
            action=Action.ROLLBACK,
            author=user,
            note=f"rollback of {username}",
        )
        decision_record(
            space=space,
            actor=user,
            action="rollback",
            target={"type": "member", "username": username},
            data={
                "teaching_revision": revision,
                "teachings": [{"type": t.kind, "id": t.pk} for t in touched],
                "since": since.isoformat() if since else None,
            },
        )
    return touched, revision
