"""The fault suite's stack: a web server, workers and a broker of their own, on the test
database (committed rows: the processes are not inside the test's transaction)."""

from __future__ import annotations

import pytest

from tests.factories import PASSWORD, SPACE_FEATURES, SPACE_LABELS
from tests.reliability.processes import Stack


@pytest.fixture
def stack(transactional_db, tmp_path):
    # Requested after the database: torn down (every process stopped) before the database
    # is flushed, so no process of ours holds a row the flush wants.
    stack = Stack(tmp_path)
    stack.broker.start()
    yield stack
    stack.stop()


def space_with_owner(stack: Stack, username: str = "olga") -> str:
    """Sign up over HTTP, create the test space; returns the owner's token."""
    status, body, _ = stack.request(
        "POST", "/api/v1/users", {"username": username, "password": PASSWORD}
    )
    assert status == 201, body
    token = body["token"]
    status, body, _ = stack.request(
        "POST",
        "/api/v1/spaces",
        {"slug": "serve", "name": "Serve", "features": SPACE_FEATURES, "labels": SPACE_LABELS},
        token=token,
    )
    assert status == 201, body
    return token


def model(stack: Stack, token: str) -> dict:
    status, body, _ = stack.request("GET", "/api/v1/spaces/serve/model", token=token)
    assert status == 200, body
    return body
