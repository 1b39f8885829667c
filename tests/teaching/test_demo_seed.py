import pytest

from mola.demo import DEMO_SLUG, seed_demo
from teaching.models import Concept, Example, Membership, Rule, Space

pytestmark = pytest.mark.django_db


def test_the_demo_is_believable_and_seeding_twice_changes_nothing():
    seed_demo()
    space = Space.objects.get(slug=DEMO_SLUG)
    counts = (
        Membership.objects.filter(space=space).count(),
        Concept.objects.filter(space=space).count(),
        Rule.objects.filter(space=space).count(),
        Example.objects.filter(space=space).count(),
    )
    assert counts[0] == 8 and counts[1] >= 15 and counts[2] >= 40 and counts[3] >= 300
    assert Rule.objects.filter(space=space, status="proposed").exists()  # a review queue
    revision = space.teaching_revision
    seed_demo()
    space.refresh_from_db()
    assert space.teaching_revision == revision
    assert (
        Membership.objects.filter(space=space).count(),
        Concept.objects.count(),
        Rule.objects.count(),
        Example.objects.count(),
    ) == counts
