"""Community fixtures: two coaches who disagree, and a thread about their rules."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _fresh_cache():
    # Credit counters and rate-limit histories live in the shared cache; ids repeat between
    # tests (each test's database is rolled back), so each test starts with an empty cache.
    # Web processes also keep unpickled models by version id, which repeat for the same
    # reason: forget them too.
    from django.core.cache import cache

    from teaching.services import predict

    cache.clear()
    predict._models.clear()
    yield
    cache.clear()
    predict._models.clear()


@pytest.fixture
def dispute(space, teacher, expert):
    """teacher: high toss → "toss in front"; expert: high toss → "high elbow"."""
    from teaching.services.rules import rule_create

    front, _ = rule_create(
        space=space, user=teacher, condition="toss_height_cm > 80", label="toss in front"
    )
    elbow, _ = rule_create(
        space=space, user=expert, condition="toss_height_cm > 70", label="high elbow"
    )
    return front, elbow


@pytest.fixture
def thread(space, teacher, dispute):
    from community.services.threads import thread_create

    front, elbow = dispute
    return thread_create(
        space=space,
        user=teacher,
        title="High tosses: which cue?",
        teachings=[{"type": "rule", "id": front.pk}, {"type": "rule", "id": elbow.pk}],
    )


def _inbox_rule(space, user, threshold: int, label: str = "high elbow"):
    from teaching.services.rules import rule_create

    rule, _ = rule_create(
        space=space, user=user, condition=f"toss_height_cm > {threshold}", label=label
    )
    return rule


def _contradiction(space, first, second, severity: float):
    from consensus.models import Contradiction

    return Contradiction.objects.create(
        space=space,
        key=f"rule_overlap:{first.pk}:{second.pk}",
        kind="rule_overlap",
        teachings=[{"type": "rule", "id": first.pk}, {"type": "rule", "id": second.pk}],
        severity=severity,
    )


@pytest.fixture
def twelve(space, teacher, expert):
    """The teacher's one rule against twelve of the expert's, severities 0.01 … 0.12."""
    mine = _inbox_rule(space, teacher, 80, "toss in front")
    theirs = [_inbox_rule(space, expert, 10 + i) for i in range(12)]
    rows = [_contradiction(space, mine, other, (i + 1) / 100) for i, other in enumerate(theirs)]
    return mine, theirs, rows
