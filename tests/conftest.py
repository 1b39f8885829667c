"""Fixtures shared by every test: named people, API clients, a demo-like space, a real worker.

The people are the same everywhere: ``owner`` (owns the space), ``moderator``, ``expert``,
``teacher`` (intermediate), ``novice``, and ``outsider`` (not a member).
"""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tests.factories import SPACE_FEATURES, SPACE_LABELS, make_user
from tests.worker import CeleryWorker


@pytest.fixture
def api():
    """Make an API client acting as ``user`` (a User, an API key string, or None)."""

    def client(user=None) -> APIClient:
        c = APIClient()
        if isinstance(user, str):
            c.credentials(HTTP_AUTHORIZATION=f"Api-Key {user}")
        elif user is not None:
            from community.services.accounts import token_create

            c.credentials(HTTP_AUTHORIZATION=f"Token {token_create(user=user)}")
        return c

    return client


@pytest.fixture
def owner(db):
    return make_user("owner")


@pytest.fixture
def outsider(db):
    return make_user("outsider")


@pytest.fixture
def space(owner):
    from teaching.services.spaces import space_create

    return space_create(
        user=owner, slug="serve", name="Serve cues", features=SPACE_FEATURES, labels=SPACE_LABELS
    )


def _member(space, owner, username: str, role: str, expertise: str):
    from teaching.services.spaces import member_join, member_update

    user = make_user(username)
    member_join(space=space, user=user)
    member_update(space=space, user=owner, username=username, role=role, expertise=expertise)
    return user


@pytest.fixture
def moderator(space, owner):
    return _member(space, owner, "moderator", "moderator", "expert")


@pytest.fixture
def expert(space, owner):
    return _member(space, owner, "expert", "teacher", "expert")


@pytest.fixture
def teacher(space, owner):
    return _member(space, owner, "teacher", "teacher", "intermediate")


@pytest.fixture
def novice(space, owner):
    return _member(space, owner, "novice", "teacher", "novice")


API_ROLES = ["anonymous", "outsider", "novice", "teacher", "moderator", "owner", "api_key"]


@pytest.fixture
def people(space, owner, outsider, novice, teacher, moderator, api_key):
    """Every kind of caller of the API, by the names of ``API_ROLES``."""
    return {
        "anonymous": None,
        "outsider": outsider,
        "novice": novice,
        "teacher": teacher,
        "moderator": moderator,
        "owner": owner,
        "api_key": api_key,
    }


@pytest.fixture
def api_key(space, owner):
    from teaching.services.keys import api_key_create

    _, key = api_key_create(space=space, user=owner, name="client")
    return key


@pytest.fixture(scope="session")
def celery_worker(django_db_setup, django_db_blocker):
    """A real ``celery worker`` process on the test database and the configured broker."""
    with django_db_blocker.unblock():
        worker = CeleryWorker()
        worker.start()
    yield worker
    worker.stop()


@pytest.fixture(autouse=True)
def _tasks_reach_the_worker_only_in_worker_tests(request):
    """A test that commits writes queues retrains and checks. Only tests that asked for the
    session's real worker may have them run: another test's task would run against rows its
    teardown is deleting (on PostgreSQL the teardown's TRUNCATE deadlocked with it)."""
    if "celery_worker" in request.fixturenames:
        worker = request.getfixturevalue("celery_worker")
        yield
        worker.wait_idle()
        return
    from mola import relay
    from mola.celery import app

    original = app.conf.task_routes
    app.conf.update(task_routes={"*": {"queue": "tests-without-worker"}})
    yield
    relay.flush()  # the relay thread sends after commit: still to the dead queue
    app.conf.update(task_routes=original)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # The real hasher is slow on purpose; tests create many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_process_caches():
    # Ids and revisions restart in every test database, so per-process caches keyed by them
    # (a space's consensus index, unpickled models) must not outlive a test.
    from django.core.cache import cache

    from cases.selectors import clear_matrices
    from community.services import credit
    from consensus import loading
    from consensus.preview import forget_teaching_examples
    from evaluation.services import versions
    from teaching.services import serving, traffic

    clear_matrices()
    versions._last_models.clear()
    loading._indexes.clear()
    forget_teaching_examples()
    serving.forget()  # unpickled models, and the newest version held per space
    credit.flush()  # the last test's credit counted in memory, into the cache cleared next
    traffic.flush()
    cache.clear()  # throttle counters and credit counters live in the shared cache
    yield
