"""The space's teaching_revision counter and the immutable revision log."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import F

from teaching.models import Action, Space, Teaching, TeachingRevision


def space_lock(*, space_id: int) -> Space:
    """Lock the space row for the rest of the transaction and return it fresh.

    Every teaching write in a space takes this lock first, so the writes of one space are
    serialised: checks that look at the other teachings (cycles, refutations) see a stable
    world, and teaching_revision values come out distinct and in commit order.
    """
    assert transaction.get_connection().in_atomic_block, "call inside transaction.atomic"
    # FOR NO KEY UPDATE: writers of the space still queue on it, but a row that merely
    # refers to the space (a model version, an outbox row: a FOR KEY SHARE lock) does not
    # wait for it. With FOR UPDATE a worker publishing (holding its TrainingState row, then
    # inserting rows that refer to the space) and a write (holding the space, then recording
    # its retrain in TrainingState) deadlocked under load on PostgreSQL.
    return Space.objects.select_for_update(no_key=True).get(pk=space_id)


def revision_bump(*, space: Space) -> int:
    """Increase the space's teaching_revision by one and return the new value."""
    Space.objects.filter(pk=space.pk).update(teaching_revision=F("teaching_revision") + 1)
    space.refresh_from_db(fields=["teaching_revision"])
    return space.teaching_revision


def teaching_content(teaching: Teaching) -> dict[str, Any]:
    """Everything a revision must keep to restore the teaching as it was."""
    content: dict[str, Any] = {"status": teaching.status}
    if teaching.kind == "concept":
        content.update(
            name=teaching.name, definition=teaching.definition, description=teaching.description
        )
    elif teaching.kind == "rule":
        content.update(
            condition=teaching.condition, label=teaching.label, rationale=teaching.rationale
        )
    else:
        content.update(
            features=teaching.features,
            label=teaching.label,
            note=teaching.note,
            refutes=teaching.refutes_id,
            evaluation=teaching.evaluation,
        )
    return content


def revision_record(
    *, teaching: Teaching, revision: int, action: Action, author, note: str = ""
) -> TeachingRevision:
    teaching.revision = revision
    type(teaching).objects.filter(pk=teaching.pk).update(revision=revision)
    return TeachingRevision.objects.create(
        space_id=teaching.space_id,
        kind=teaching.kind,
        teaching_id=teaching.pk,
        revision=revision,
        action=action,
        author=author,
        content=teaching_content(teaching),
        note=note,
    )
