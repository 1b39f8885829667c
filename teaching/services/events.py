"""What follows a teaching change: the space's model retrains and consensus re-checks.

Called by every teaching write inside its transaction; the work is queued on commit, so a
rolled-back write schedules nothing and the worker never reads uncommitted rows.
"""

from __future__ import annotations

from django.db import transaction


def teaching_changed(*, space_id: int, revision: int, refs: list[tuple[str, int]]) -> None:
    """Schedule a retrain of the space and a consensus check of the changed teachings."""

    def dispatch() -> None:
        from consensus.services import consensus_schedule
        from teaching.services.training import retrain_schedule

        retrain_schedule(space_id=space_id, revision=revision)
        consensus_schedule(space_id=space_id, revision=revision, refs=refs)

    transaction.on_commit(dispatch)
