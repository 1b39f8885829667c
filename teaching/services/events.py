"""What follows a teaching change: the space's model retrains and consensus re-checks
(told by the ``teachings_changed`` signal: consensus sits above teaching).

Called by every teaching write inside its transaction. The work is recorded there, in the
outbox (``teaching.services.outbox``): a committed write always has it, a rolled-back write
never. The tasks are handed to the relay on commit, so the worker never reads uncommitted
rows and the answer never waits for the broker.
"""

from __future__ import annotations

from django.db import transaction

from teaching.models import Space, WorkKind
from teaching.services.outbox import work_record
from teaching.signals import teachings_changed


def teaching_changed(*, space_id: int, revision: int, refs: list[tuple[str, int]]) -> None:
    """Record a retrain of the space and a consensus check of the changed teachings, and
    ask for both once the write has committed.

    Asking cannot fail the write: the relay never raises, and what it could not send the
    workers' sweep sends again.
    """
    from teaching.services.training import retrain_request, retrain_schedule

    retrain_request(space_id=space_id, revision=revision)
    work_record(space_id=space_id, kinds=(WorkKind.CHECK,), revision=revision)

    def retrain() -> None:
        retrain_schedule(space_id=space_id, revision=revision)

    def check() -> None:
        teachings_changed.send(sender=Space, space_id=space_id, revision=revision, refs=refs)

    transaction.on_commit(retrain, robust=True)
    transaction.on_commit(check, robust=True)
