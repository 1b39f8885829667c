"""Teaching changes a moderator's decision makes (a thread's resolution): the retirements it
decides and the one revision that records the decision in every touched teaching's history."""

from __future__ import annotations

from mola.errors import Conflict
from teaching.models import LIVE_STATUSES, Action, Space, Status, Teaching
from teaching.services.common import commit_change, concept_in_use_check


def teachings_retire_decided(
    *,
    space: Space,
    retire: list[Teaching],
    touched: list[Teaching],
    user,
    reason: str,
    by_resolution: str,
) -> int:
    """Retire ``retire`` and record one RESOLVE revision over them and ``touched`` (the
    other teachings the decision is about); returns the space's new teaching revision.

    Inside the caller's transaction, with the space locked. Refuses (409, nothing written)
    a teaching that is not live, or a concept that live teachings other than ``retire``
    use. ``by_resolution`` names the decision in the revision note ("thread #4 resolved
    (prefer)"), ``reason`` is the moderator's why. The revision (on commit) retrains the
    model and re-checks consensus.
    """
    for teaching in retire:
        if teaching.status not in LIVE_STATUSES:
            raise Conflict(
                f"{teaching.kind} #{teaching.pk} is {teaching.status} already.",
                code="not_live",
                field="retire",
            )
    retiring = frozenset((t.kind, t.pk) for t in retire)
    for teaching in retire:
        concept_in_use_check(space=space, teaching=teaching, retiring=retiring, field="retire")
    for teaching in retire:
        teaching.status = Status.RETIRED
        teaching.save(update_fields=["status", "updated_at"])
    others = [t for t in touched if (t.kind, t.pk) not in retiring]
    return commit_change(
        space=space,
        teachings=[*retire, *others],
        action=Action.RESOLVE,
        author=user,
        note=f"{by_resolution}: {reason.strip()}",
    )
