"""Fixtures of the page tests: a space with a few teachings, a client per role, and for the
browser tests a headless Chromium and a page of it (tests/frontend/browser_kit.py)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from django.test import Client

from tests.factories import row
from tests.frontend.browser_kit import CHROMIUM, CHROMIUM_ARGS, new_page

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


@pytest.fixture(scope="module")
def browser() -> Iterator:
    """A headless Chromium for one test module (fails where CI requires one and none is)."""
    from playwright.sync_api import sync_playwright

    if CHROMIUM is None:
        pytest.fail("MOLA_BROWSER_TESTS=required, but chromium is not installed")
    # Playwright's sync API keeps an event loop running in this thread; Django refuses
    # database calls under a running loop unless told that this is deliberate.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(browser):
    page = new_page(browser)
    yield page
    page.context.close()
