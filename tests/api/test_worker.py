"""A real task through a real worker process, on whichever broker is configured."""

import uuid

import pytest
from django.core.cache import cache

from mola.tasks import echo
from tests.worker import wait_for

pytestmark = pytest.mark.worker


def test_a_task_runs_in_the_worker_and_its_effect_comes_back(celery_worker, transactional_db):
    token = uuid.uuid4().hex
    result = echo.delay(token)
    assert result.get(timeout=30) == token  # through the result backend
    assert wait_for(lambda: cache.get(f"mola:echo:{token}")) == token  # through the cache
