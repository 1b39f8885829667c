"""Evaluation fixtures: a master coach beside the shared people, and quick case helpers."""

from __future__ import annotations

import pytest

from tests.conftest import _member


@pytest.fixture
def master(space, owner):
    return _member(space, owner, "master", "teacher", "master")


@pytest.fixture
def novices(space, owner):
    return [_member(space, owner, f"novice{i}", "teacher", "novice") for i in (1, 2, 3)]
