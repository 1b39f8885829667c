"""A space with a text feature through the API: the schema, rules with text tests, and the
text values it refuses — each a 400 in the contract's error format with nothing written."""

from __future__ import annotations

import json
import time

import pytest

from teaching.models import Example, Rule, Space
from tests.factories import TEXT_LABELS as LABELS
from tests.factories import TEXT_SPACE_API as S

pytestmark = pytest.mark.django_db

FEATURES = [
    {"name": "comment", "kind": "text", "max_length": 500},
    {"name": "likes", "kind": "number"},
]


@pytest.fixture
def tube(api, outsider):
    body = {"slug": "tube", "name": "Tube", "features": FEATURES, "labels": LABELS}
    response = api(outsider).post("/api/v1/spaces", body, format="json")
    assert response.status_code == 201, response.json()
    return outsider


def test_a_text_feature_is_stored_with_its_max_length(api, tube):
    features = api(tube).get(S).json()["features"]
    assert features[0] == {"name": "comment", "kind": "text", "max_length": 500}


def test_a_text_rule_is_taught_and_a_bad_pattern_is_refused_with_its_position(api, tube):
    client = api(tube)
    ok = client.post(
        f"{S}/rules", {"condition": 'comment contains "check out"', "label": "spam"}, format="json"
    )
    assert ok.status_code == 201, ok.json()
    condition = "comment matches /(?<=my)channel/i"
    response = client.post(f"{S}/rules", {"condition": condition, "label": "spam"}, format="json")
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert (error["field"], error["code"]) == ("condition", "bad_pattern")
    assert error["position"] == condition.index("(?<=")
    assert Rule.objects.count() == 1


def test_a_huge_pattern_is_refused_quickly(api, tube):
    started = time.perf_counter()
    condition = "comment matches /" + "|".join(f"w{i}" for i in range(10_000)) + "/"
    response = api(tube).post(
        f"{S}/rules", {"condition": condition, "label": "spam"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] in ("too_long", "bad_pattern")
    assert time.perf_counter() - started < 1.0


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("x" * 501, "too_long"),
        ("nul \u0000 inside", "invalid_text"),
        ("\ud83d alone", "invalid_text"),
    ],
)
def test_bad_texts_are_refused_for_examples_and_predictions(api, tube, text, code):
    client = api(tube)
    features = {"comment": text, "likes": 1}

    def send(path: str, body: dict):
        # As a client sends it: JSON with \u escapes (a lone surrogate cannot be UTF-8).
        return client.post(path, json.dumps(body), content_type="application/json")

    response = send(f"{S}/examples", {"features": features, "label": "spam"})
    assert response.status_code == 400, response.content
    errors = response.json()["errors"]
    assert any(e["code"] == code and e["field"].endswith("comment") for e in errors), errors
    assert not Example.objects.exists()
    response = send(f"{S}/predict", {"instances": [features]})
    assert response.status_code == 400, response.content
    assert any(e["code"] == code for e in response.json()["errors"])


def test_a_text_example_keeps_the_text_as_written(api, tube):
    text = "Check\ufeff out ｍｙ channel"
    response = api(tube).post(
        f"{S}/examples", {"features": {"comment": text, "likes": 2}, "label": "spam"}, format="json"
    )
    assert response.status_code == 201, response.json()
    assert Example.objects.get().features["comment"] == text
    assert Space.objects.get(slug="tube").teaching_revision == 1


def test_the_rule_preview_names_the_contradiction_with_a_witness_text(api, tube):
    client = api(tube)
    client.post(
        f"{S}/rules", {"condition": 'comment contains "my channel"', "label": "spam"}, format="json"
    )
    response = client.post(
        f"{S}/rules/preview",
        {"condition": 'comment contains "song" and likes > 3', "label": "ham"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    [found] = response.json()["contradictions"]
    witness = found["witness"]
    assert "my channel" in witness["comment"] and "song" in witness["comment"]
    assert witness["likes"] > 3
