"""Test data builders."""

from __future__ import annotations

import factory
from django.contrib.auth import get_user_model

PASSWORD = "correct-horse-battery-staple"  # every test user's, and good enough for sign-ups

# The fixtures' space (``tests/conftest.py``: slug "serve") in the API and on the pages, and
# the text space some tests make (slug "tube", one text feature).
SPACE_API = "/api/v1/spaces/serve"
SPACE_PAGES = "/spaces/serve"
TEXT_SPACE_API = "/api/v1/spaces/tube"
TEXT_SPACE_PAGES = "/spaces/tube"
TEXT_FEATURES = [{"name": "comment", "kind": "text"}]
TEXT_LABELS = [{"name": "spam"}, {"name": "ham"}]

SPACE_FEATURES = [
    {"name": "toss_height_cm", "kind": "number", "unit": "cm", "min": 0, "max": 150},
    {"name": "elbow_angle", "kind": "number", "min": 60, "max": 180},
    {"name": "serve_type", "kind": "category", "choices": ["float", "jump", "underhand"]},
    {"name": "fatigued", "kind": "boolean"},
]
SPACE_LABELS = [{"name": "toss in front"}, {"name": "high elbow"}, {"name": "no cue"}]


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")

    @factory.post_generation
    def password(self, create, extracted, **kwargs):
        self.set_password(extracted or PASSWORD)
        if create:
            self.save(update_fields=["password"])


def make_user(username: str):
    return UserFactory(username=username)


def row(**values):
    """A valid instance of the test schema, with ``values`` changed."""
    base = {"toss_height_cm": 50.0, "elbow_angle": 120.0, "serve_type": "float", "fatigued": False}
    return {**base, **values}
