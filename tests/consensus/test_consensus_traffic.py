"""Traffic-weighted severity (issue #5): an overlap the model's clients keep asking about
matters more. Predict samples its inputs; a check refreshes them into the index at most once
per ``RECENT_REFRESH_SECONDS`` and re-checks what they move."""

import pytest

from consensus import loading
from consensus.models import Contradiction
from consensus.services import consensus_check, consensus_recompute
from teaching.services.examples import example_create
from teaching.services.training import train_space
from tests.factories import SPACE_API as S
from tests.factories import row

pytestmark = pytest.mark.django_db


def _overlap(space) -> Contradiction:
    return Contradiction.objects.get(space=space, kind="rule_overlap")


def test_predictions_inside_an_overlap_raise_its_severity_at_the_next_check(
    api, space, teacher, expert, api_key, monkeypatch
):
    client = api(teacher)
    client.post(
        f"{S}/rules", {"condition": "toss_height_cm > 90", "label": "toss in front"}, format="json"
    )
    api(expert).post(f"{S}/rules", {"condition": "fatigued", "label": "no cue"}, format="json")
    train_space(space_id=space.pk)
    consensus_check(space_id=space.pk)
    quiet = _overlap(space).severity
    assert quiet == pytest.approx(0.24)  # no example, no traffic: the middle of the queue

    inside = [row(toss_height_cm=float(h), fatigued=True) for h in (100, 110, 120, 130, 140)]
    response = api(api_key).post(f"{S}/predict", {"instances": inside}, format="json")
    assert response.status_code == 200

    def write_and_check(height: float) -> float:
        example_create(
            space=space, user=expert, features=row(toss_height_cm=height), label="high elbow"
        )
        consensus_check(space_id=space.pk)
        return _overlap(space).severity

    # The sample was read when the index was built, moments ago: not refreshed yet.
    assert write_and_check(10.0) == quiet
    monkeypatch.setattr(loading, "RECENT_REFRESH_SECONDS", 0.0)
    busy = write_and_check(20.0)
    assert busy > 0.7  # every recent input fell in the overlap
    stored = {(c.key, c.severity) for c in Contradiction.objects.filter(space=space)}
    consensus_recompute(space=space)  # from scratch, with the same sample: the same set
    assert {(c.key, c.severity) for c in Contradiction.objects.filter(space=space)} == stored
