"""Endorsing and rejecting proposed teachings (the novice review queue)."""

from __future__ import annotations

from django.db import transaction

from mola.errors import Conflict, NotAllowed
from teaching.models import Action, Space, Status, Teaching
from teaching.services.access import check_trusted
from teaching.services.common import commit_change, locked_teaching
from teaching.signals import decision_record


def _review(
    *, space: Space, kind: str, teaching_id: int, user, accept: bool, note: str = ""
) -> tuple[Teaching, int]:
    with transaction.atomic():
        space, teaching = locked_teaching(space=space, kind=kind, teaching_id=teaching_id)
        check_trusted(space=space, user=user)
        if teaching.author_id == user.id:
            raise NotAllowed("Nobody reviews their own teaching.", code="own_teaching")
        if teaching.status != Status.PROPOSED:
            raise Conflict(f"This {kind} is {teaching.status}, not proposed.", code="not_proposed")
        teaching.status = Status.ACTIVE if accept else Status.REJECTED
        teaching.save(update_fields=["status", "updated_at"])
        action = Action.ENDORSE if accept else Action.REJECT
        revision = commit_change(
            space=space, teachings=[teaching], action=action, author=user, note=note
        )
        decision_record(
            space=space,
            actor=user,
            action=action.value,
            target={"type": kind, "id": teaching.pk, "author": teaching.author.username},
            note=note,
            data={"teaching_revision": revision},
        )
    return teaching, revision


def teaching_endorse(
    *, space: Space, kind: str, teaching_id: int, user, note: str = ""
) -> tuple[Teaching, int]:
    """A trusted member accepts a proposed teaching: it becomes active and reaches the model."""
    return _review(
        space=space, kind=kind, teaching_id=teaching_id, user=user, accept=True, note=note
    )


def teaching_reject(
    *, space: Space, kind: str, teaching_id: int, user, note: str = ""
) -> tuple[Teaching, int]:
    """A trusted member turns a proposed teaching down; it stays in history, rejected."""
    return _review(
        space=space, kind=kind, teaching_id=teaching_id, user=user, accept=False, note=note
    )
