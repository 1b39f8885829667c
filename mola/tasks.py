"""Operational tasks of the project itself (not of one app)."""

from celery import shared_task
from django.core.cache import cache


@shared_task(name="mola.echo", time_limit=10, soft_time_limit=8)
def echo(token: str) -> str:
    """Write ``token`` where the sender can see it, and return it.

    Used by the health check and by the tests that prove a real worker runs our code: the
    effect lands in the shared cache, the return value in the result backend.
    """
    cache.set(f"mola:echo:{token}", token, timeout=300)
    return token
