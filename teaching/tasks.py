"""Celery tasks of the teaching app: ids in, one service call."""

from celery import shared_task

from teaching.services.training import (
    RETRAIN_RETRIES,
    RETRAIN_SOFT_TIME_LIMIT,
    RETRAIN_TIME_LIMIT,
)


@shared_task(
    bind=True,
    name="teaching.retrain_space",
    time_limit=RETRAIN_TIME_LIMIT,
    soft_time_limit=RETRAIN_SOFT_TIME_LIMIT,
    acks_late=True,
    max_retries=RETRAIN_RETRIES,
)
def retrain_space(
    self, space_id: int, claim: str | None = None, revision: int | None = None
) -> int:
    """Retrain the space (from ``revision`` or newer); when the database fails under it,
    retry with backoff, handing on the claim the failed attempt could not release."""
    from teaching.services.training import (
        RetrainInterrupted,
        retrain_gave_up,
        retrain_retry_delay,
        retrain_run,
    )

    try:
        return retrain_run(space_id=space_id, claim=claim, revision=revision)
    except RetrainInterrupted as interrupted:
        if self.request.retries >= self.max_retries:
            retrain_gave_up(space_id=space_id)
            raise
        raise self.retry(
            kwargs={"space_id": space_id, "claim": interrupted.claim, "revision": revision},
            countdown=retrain_retry_delay(self.request.retries),
            exc=interrupted,
        ) from interrupted


@shared_task(
    name="teaching.refine_space",
    time_limit=RETRAIN_TIME_LIMIT,
    soft_time_limit=RETRAIN_SOFT_TIME_LIMIT,
    acks_late=True,
)
def refine_space(space_id: int) -> int | None:
    """Publish a full fit of the space's trained revision over its quick version (or give
    way to a newer revision); returns the version published, if any."""
    from teaching.services.training import refine_run

    version = refine_run(space_id=space_id)
    return version.version if version is not None else None
