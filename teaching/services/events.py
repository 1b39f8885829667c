"""What follows a teaching change: the space's model retrains and consensus re-checks
(told by the ``teachings_changed`` signal: consensus sits above teaching).

Called by every teaching write inside its transaction; the work is queued on commit, so a
rolled-back write schedules nothing and the worker never reads uncommitted rows.
"""

from __future__ import annotations

from django.db import transaction

from teaching.models import Space
from teaching.signals import teachings_changed


def teaching_changed(*, space_id: int, revision: int, refs: list[tuple[str, int]]) -> None:
    """Schedule a retrain of the space and a consensus check of the changed teachings.

    Each is scheduled on its own, and a failure is logged, not raised: the write has
    committed by then, and an error answer would make the client send it again.
    """

    def retrain() -> None:
        from teaching.services.training import retrain_schedule

        retrain_schedule(space_id=space_id, revision=revision)

    def check() -> None:
        teachings_changed.send(sender=Space, space_id=space_id, revision=revision, refs=refs)

    transaction.on_commit(retrain, robust=True)
    transaction.on_commit(check, robust=True)
