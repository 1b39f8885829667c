"""A space of comments, end to end through the API on a real worker: examples teach words, a
phrase rule changes the answers it covers, and explanations name the words and teachers."""

import pytest

from tests.conftest import _member
from tests.factories import TEXT_SPACE_API as S
from tests.worker import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

SPAM = [
    "check out my channel please",
    "subscribe to my channel for free gifts",
    "visit my page http link",
    "free gift card check my video",
    "please subscribe and share my channel",
    "click this link for free money",
]
HAM = [
    "this song is so beautiful",
    "love this song so much",
    "best music video ever",
    "her voice is amazing in this song",
    "this song brings back memories",
    "the beat of this song is great",
]


@pytest.fixture
def tube(owner):
    from teaching.services.spaces import space_create

    return space_create(
        user=owner,
        slug="tube",
        name="Tube",
        features=[{"name": "comment", "kind": "text"}],
        labels=[{"name": "spam"}, {"name": "ham"}],
    )


def _trained(client, revision: int) -> dict:
    def ready():
        body = client.get(f"{S}/model").json()
        return body if body["teaching_revision"] and body["teaching_revision"] >= revision else None

    return wait_for(ready, timeout=90)


def _predict(client, *texts: str) -> list[dict]:
    instances = [{"comment": text} for text in texts]
    response = client.post(f"{S}/predict", {"instances": instances}, format="json")
    assert response.status_code == 200, response.json()
    return response.json()["predictions"]


def test_words_and_a_phrase_rule_shape_a_text_model(api, celery_worker, tube, owner):
    anna = _member(tube, owner, "anna", "teacher", "expert")
    ben = _member(tube, owner, "ben", "teacher", "expert")
    items = [{"features": {"comment": t}, "label": "spam"} for t in SPAM]
    response = api(anna).post(f"{S}/examples", {"examples": items}, format="json")
    assert response.status_code == 201, response.json()
    for text in HAM:
        last = api(ben).post(
            f"{S}/examples", {"features": {"comment": text}, "label": "ham"}, format="json"
        )
        assert last.status_code == 201, last.json()
    _trained(api(anna), last.json()["teaching_revision"])
    [subscribe, lyrics] = _predict(api(anna), "subscribe to my channel", "lyrics download here")
    assert subscribe["label"] == "spam"
    words = subscribe["explanation"]["words"]
    assert words and "anna" in words[0]["teachers"]
    assert "anna" in subscribe["explanation"]["contributors"]
    before = lyrics["probabilities"]["spam"]

    rule = api(ben).post(
        f"{S}/rules",
        {"condition": 'comment contains "lyrics"', "label": "spam"},
        format="json",
    )
    assert rule.status_code == 201, rule.json()
    _trained(api(anna), rule.json()["teaching_revision"])
    [subscribe, lyrics] = _predict(api(anna), "subscribe to my channel", "lyrics download here")
    assert lyrics["label"] == "spam" and lyrics["probabilities"]["spam"] > before
    assert [r["id"] for r in lyrics["explanation"]["rules"]] == [rule.json()["id"]]
    assert subscribe["label"] == "spam"
