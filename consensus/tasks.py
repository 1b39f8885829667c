from celery import shared_task


@shared_task(name="consensus.check", time_limit=120, soft_time_limit=100, acks_late=True)
def consensus_check_task(space_id: int, revision: int, refs: list[list]) -> None:
    from consensus.services import consensus_check

    consensus_check(
        space_id=space_id, revision=revision, refs=[(kind, int(pk)) for kind, pk in refs]
    )
