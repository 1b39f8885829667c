"""One validation for both doors: a web form goes through the same service checks as the
API, so no page stores what the API would refuse — usernames, text lengths, NUL characters
— and web-form teaching writes count against the same rate as the API's."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from teaching.models import Concept, Rule
from tests.factories import PASSWORD
from tests.factories import SPACE_PAGES as S

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("username", ["evil/name", "x" * 300, "nul\x00name"])
def test_a_username_against_the_rules_is_refused_at_both_doors(api, username):
    web = Client().post("/signup/", {"username": username, "password": PASSWORD})
    assert web.status_code == 400
    response = api().post(
        "/api/v1/users",
        {"username": username, "password": PASSWORD},
        format="json",
    )
    assert response.status_code == 400
    assert not get_user_model().objects.exists()  # (a NUL cannot even be searched for)


def test_a_rationale_past_the_apis_cap_is_refused_on_the_page(client_as, space):
    response = client_as("teacher").post(
        f"{S}/rules/new/",
        {"condition": "toss_height_cm > 10", "label": "no cue", "rationale": "x" * 2_000_000},
    )
    assert response.status_code == 400
    assert not Rule.objects.exists()


@pytest.mark.parametrize(
    ("path", "fields"),
    [
        (
            "rules/new/",
            {"condition": "toss_height_cm > 10", "label": "no cue", "rationale": "a\x00"},
        ),
        (
            "concepts/new/",
            {"name": "high", "definition": "toss_height_cm > 90", "description": "\x00"},
        ),
    ],
)
def test_a_nul_character_is_refused_on_the_page(client_as, space, path, fields):
    response = client_as("teacher").post(f"{S}/{path}", fields)
    assert response.status_code == 400
    assert not Rule.objects.exists() and not Concept.objects.exists()


def test_web_teaching_writes_share_the_apis_rate_limit(api, client_as, novice, space, settings):
    settings.TEACHING_WRITE_RATE_NOVICE = "3/min"
    for n in range(3):
        response = api(novice).post(
            f"/api/v1{S}/rules",
            {"condition": f"toss_height_cm > {n}", "label": "no cue"},
            format="json",
        )
        assert response.status_code == 201
    assert (
        api(novice)
        .post(
            f"/api/v1{S}/rules",
            {"condition": "toss_height_cm > 9", "label": "no cue"},
            format="json",
        )
        .status_code
        == 429
    )
    response = client_as("novice").post(
        f"{S}/rules/new/", {"condition": "toss_height_cm > 50", "label": "no cue"}
    )
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert Rule.objects.count() == 3
