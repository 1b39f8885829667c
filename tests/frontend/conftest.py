"""Fixtures of the page tests: a space with a few teachings, and a client per role."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.factories import row

ROLES = ["anonymous", "outsider", "novice", "teacher", "moderator", "owner"]


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    """The named people are created for every test; a slow hasher would dominate the run."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def taught(space, owner, teacher, novice):
    """A concept, an active rule and example by the teacher, a proposed rule by the novice."""
    from teaching.services import concepts, examples, rules

    concept, _ = concepts.concept_create(
        space=space, user=teacher, name="high_toss", definition="toss_height_cm > 90"
    )
    rule, _ = rules.rule_create(
        space=space,
        user=teacher,
        condition="high_toss",
        label="toss in front",
        rationale="Too high is too late.",
    )
    example, _ = examples.example_create(
        space=space, user=teacher, features=row(toss_height_cm=100.0), label="toss in front"
    )
    proposed, _ = rules.rule_create(space=space, user=novice, condition="fatigued", label="no cue")
    # The owner's rule overlaps the teacher's where no example lies (a 0.24-severe dispute
    # between active rules); the novice's proposal opens no thread until it is endorsed.
    rules.rule_create(
        space=space, user=owner, condition="toss_height_cm > 80 and fatigued", label="no cue"
    )
    from community.models import Thread
    from consensus.services import consensus_check

    consensus_check(space_id=space.pk)  # the overlap with the teacher's rule opens a thread
    space.refresh_from_db()
    return {
        "concept": concept,
        "rule": rule,
        "example": example,
        "proposed": proposed,
        "thread": Thread.objects.get(space=space),
    }


@pytest.fixture
def people(owner, outsider, novice, teacher, moderator):
    return {
        "anonymous": None,
        "outsider": outsider,
        "novice": novice,
        "teacher": teacher,
        "moderator": moderator,
        "owner": owner,
    }


@pytest.fixture
def client_as(people):
    """A Django test client logged in as one of the named roles."""

    def make(role: str) -> Client:
        client = Client()
        if people[role] is not None:
            client.force_login(people[role])
        return client

    return make
