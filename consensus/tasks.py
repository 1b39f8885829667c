from celery import shared_task

from consensus.services import consensus_check
from mola.leases import lease
from teaching.models import Outbox, WorkKind
from teaching.services.outbox import work_done, work_started

# A check after one write takes milliseconds, but the first check of a space imported in bulk
# stores every contradiction at once (M: 780k rows, minutes). It writes in short transactions
# that never hold teachers' writes back, so it is given the time to finish rather than killed
# half-way and started again from a cold index.
CHECK_TIME_LIMIT = 30 * 60


@shared_task(
    name="consensus.check",
    time_limit=CHECK_TIME_LIMIT,
    soft_time_limit=CHECK_TIME_LIMIT - 60,
    acks_late=True,
)
def consensus_check_task(space_id: int, revision: int, refs: list[list]) -> None:
    """Check the space and clear its outbox row up to the revision checked. While it runs
    it keeps a heartbeat on the row, so the sweep resends a check only when none is alive."""
    work_started(space_id=space_id, kind=WorkKind.CHECK)
    with lease(Outbox.objects.filter(space_id=space_id, kind=WorkKind.CHECK)):
        checked = consensus_check(
            space_id=space_id, revision=revision, refs=[(kind, int(pk)) for kind, pk in refs]
        )
    work_done(space_id=space_id, kind=WorkKind.CHECK, revision=checked)
