from celery import shared_task

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
    from consensus.services import consensus_check

    consensus_check(
        space_id=space_id, revision=revision, refs=[(kind, int(pk)) for kind, pk in refs]
    )
