"""Pages of a space with a text feature: a text area for values, the words a rule matched
highlighted in its preview, long texts folded."""

from __future__ import annotations

import pytest
from django.test import Client

from teaching.services import examples, spaces
from tests.factories import TEXT_FEATURES as FEATURES
from tests.factories import TEXT_LABELS as LABELS
from tests.factories import TEXT_SPACE_PAGES as T

pytestmark = pytest.mark.django_db


@pytest.fixture
def tube(owner):
    space = spaces.space_create(
        user=owner, slug="tube", name="Tube", features=FEATURES, labels=LABELS
    )
    for text, label in [
        ("Please CHECK\ufeff out my channel <b>now</b>", "spam"),
        ("check out this song, a mystery", "ham"),
        ("lovely " * 100 + "check out the end", "spam"),
        ("nothing to see", "ham"),
    ]:
        examples.example_create(space=space, user=owner, features={"comment": text}, label=label)
    client = Client()
    client.force_login(owner)
    return client


def test_the_preview_highlights_the_matched_words_in_the_text_as_written(tube):
    response = tube.post(
        f"{T}/teach/preview/",
        {"condition": 'comment contains any ["check out", "my"]', "label": "spam"},
    )
    body = response.content.decode()
    assert response.status_code == 200, body
    assert "It covers <strong>3</strong> of 4 examples" in body
    assert '<mark class="matched">CHECK\ufeff out</mark>' in body
    assert '<mark class="matched">my</mark> channel &lt;b&gt;now&lt;/b&gt;' in body  # escaped
    assert "mystery" in body and '<mark class="matched">mystery' not in body
    assert '<details class="text-value folded">' in body  # the 800-character comment


def test_a_text_feature_gets_a_text_area(tube):
    body = tube.get(f"{T}/playground/").content.decode()
    assert '<textarea id="id_f-comment" name="f-comment"' in body


def test_a_long_text_is_folded_on_the_examples_page(tube):
    body = tube.get(f"{T}/examples/").content.decode()
    assert '<details class="text-value folded">' in body
    assert "(717 characters)" in body
