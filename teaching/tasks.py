"""Celery tasks of the teaching app: ids in, one service call."""

from celery import shared_task


@shared_task(name="teaching.retrain_space", time_limit=300, soft_time_limit=240, acks_late=True)
def retrain_space(space_id: int) -> int:
    from teaching.services.training import retrain_run

    return retrain_run(space_id=space_id)
