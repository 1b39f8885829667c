"""Schemathesis against the served OpenAPI schema, on the live app, on a bounded budget.

Every operation of ``/api/schema/`` is called with generated requests — valid ones and
invalid ones — as the owner of a seeded space (the path's ``slug``, ``thread_id``,
``teaching_id``… name real rows, so requests reach validation and the services, not just a
404). A request fails the test when the server errors (5xx), answers a status the schema
does not document for the operation, answers a body the schema does not describe, accepts
a request the schema calls invalid, or refuses one it calls valid for a reason the schema
could have said (see ``SEMANTIC_REFUSALS``).

The budget is ``MOLA_FUZZ_EXAMPLES`` examples per operation (default 8: about two minutes on
a quiet two-core machine); raise it to search harder.
"""

from __future__ import annotations

import contextlib
import os
from collections import Counter

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi import checks

from tests.factories import row

pytestmark = [pytest.mark.django_db, pytest.mark.fuzz]

EXAMPLES = int(os.environ.get("MOLA_FUZZ_EXAMPLES", "8"))

# Operations whose schema-valid bodies the server may refuse (400) for reasons a JSON schema
# cannot say: a password Django's validators call weak or that does not match, a username
# already taken. Their refusals are still checked to be documented, in the error body.
SEMANTIC_REFUSALS = ("POST /api/v1/auth/token", "POST /api/v1/users", "POST /api/v1/me/password")


class _InTransactionApp(WSGIHandler):
    """Django's WSGI app, minus closing the connection around each request (which would end
    the test's transaction: the seeded rows live in it)."""

    def __call__(self, environ, start_response):
        from django.core import signals
        from django.db import close_old_connections

        signals.request_started.disconnect(close_old_connections)
        signals.request_finished.disconnect(close_old_connections)
        try:
            return super().__call__(environ, start_response)
        finally:
            signals.request_started.connect(close_old_connections)
            signals.request_finished.connect(close_old_connections)


@pytest.fixture
def fuzz_world(space, owner, moderator, teacher, api_key, settings):
    """A space with one of everything, and the path parameters naming them."""
    from cases.models import Case
    from cases.services.pool import cases_import
    from community.services.accounts import token_create
    from community.services.threads import thread_create
    from teaching.services.teachings import teaching_create

    settings.TEACHING_WRITE_RATE = "100000/min"
    settings.TEACHING_WRITE_RATE_NOVICE = "100000/min"
    concept, _ = teaching_create(
        space=space,
        user=teacher,
        kind="concept",
        name="high_toss",
        definition="toss_height_cm > 60",
    )
    rule, _ = teaching_create(
        space=space,
        user=teacher,
        kind="rule",
        condition="high_toss",
        label="toss in front",
        rationale="seen it",
    )
    example, _ = teaching_create(
        space=space, user=teacher, kind="example", features=row(), label="no cue"
    )
    cases_import(space=space, user=owner, rows=[row(elbow_angle=150.0)])
    case = Case.objects.get(space=space)
    thread = thread_create(
        space=space,
        user=teacher,
        title="About tosses",
        teachings=[{"type": "rule", "id": rule.id}],
        body="Look.",
    )
    return {
        "token": token_create(user=owner),
        "path": {
            "slug": space.slug,
            "thread_id": thread.id,
            "case_id": case.id,
            "username": moderator.username,
            "prefix": api_key.split(".")[0],
            "version": 1,
        },
        "teachings": {"concepts": concept.id, "rules": rule.id, "examples": example.id},
    }


def _path_parameters(operation, world) -> dict:
    """The seeded rows the operation's path names (a teaching of the path's kind)."""
    fixed = {}
    for parameter in operation.path_parameters:
        name = parameter.name
        if name == "teaching_id":
            fixed[name] = world["teachings"][operation.path.split("/")[5]]
        else:
            fixed[name] = world["path"][name]
    return fixed


def _exercise(operation, mode, world, found: dict) -> int:
    """Send up to ``EXAMPLES`` generated requests; record each kind of failure once."""
    sent = 0
    excluded = []
    if operation.label in SEMANTIC_REFUSALS:
        excluded.append(checks.positive_data_acceptance)
    headers = {"Authorization": f"Token {world['token']}"}

    strategy = operation.as_strategy(
        mode, path_parameters=_path_parameters(operation, world), headers=headers
    )

    @given(case=strategy)
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    def send(case):
        nonlocal sent
        sent += 1
        response = case.call()
        try:
            case.validate_response(response, excluded_checks=excluded, headers=headers)
        except (FailureGroup, Failure) as error:
            for failure in getattr(error, "exceptions", [error]):
                key = (operation.label, type(failure).__name__, response.status_code)
                sent_part = f"query={case.query} body={str(case.body)[:200]}"
                found.setdefault(key, f"{failure.title}; {sent_part} -> {response.text[:300]}")

    with contextlib.suppress(Unsatisfiable):  # nothing to make invalid (no body, no query)
        send()
    return sent


def test_every_operation_keeps_to_its_schema(fuzz_world):
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", _InTransactionApp())
    found: dict[tuple, str] = {}
    operations = sent = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        sent += _exercise(operation, GenerationMode.POSITIVE, fuzz_world, found)
        if operation.body or operation.query:  # else only the path, which names seeded rows
            sent += _exercise(operation, GenerationMode.NEGATIVE, fuzz_world, found)
    summary = Counter(kind for _, kind, _ in found)
    report = "\n".join(
        f"{op} -> {kind} {status}: {why}" for (op, kind, status), why in found.items()
    )
    print(f"{operations} operations, {sent} requests; failures by kind: {dict(summary)}")
    assert operations >= 80
    assert not found, f"{dict(summary)}\n{report}"
