"""Recent prediction inputs: sampled per call, kept newest-first up to a bound, schema-checked."""

import pytest
from django.core.cache import cache

from teaching import selectors
from teaching.services import traffic
from tests.factories import row

pytestmark = pytest.mark.django_db


def test_a_call_notes_a_few_instances_spread_over_the_batch(space):
    rows = [row(toss_height_cm=float(n)) for n in range(100)]
    traffic.inputs_record(space_id=space.pk, rows=rows)
    heights = [r["toss_height_cm"] for r in selectors.recent_inputs(space=space)]
    assert heights == [0.0, 20.0, 40.0, 60.0, 80.0]


def test_nothing_is_written_to_the_cache_on_the_predict_path(space):
    traffic.inputs_record(space_id=space.pk, rows=[row()])
    assert cache.get(traffic.recent_inputs_key(space.pk)) is None
    traffic.flush()
    assert cache.get(traffic.recent_inputs_key(space.pk)) == [row()]


def test_only_the_newest_are_kept(space, monkeypatch):
    monkeypatch.setattr(traffic, "RECENT_MAX", 3)
    for n in range(5):
        traffic.inputs_record(space_id=space.pk, rows=[row(toss_height_cm=float(n))])
        traffic.flush()
    heights = [r["toss_height_cm"] for r in selectors.recent_inputs(space=space)]
    assert heights == [2.0, 3.0, 4.0]


def test_inputs_that_no_longer_fit_the_schema_are_left_out(space):
    traffic.inputs_record(space_id=space.pk, rows=[row(), {**row(), "retired_feature": 1}])
    traffic.inputs_record(space_id=space.pk, rows=[{"toss_height_cm": "high"}])
    assert selectors.recent_inputs(space=space) == [row()]


def test_spaces_keep_their_own_samples(space, owner):
    from teaching.services.spaces import space_create
    from tests.factories import SPACE_FEATURES, SPACE_LABELS

    other = space_create(
        user=owner, slug="swim", name="Swim", features=SPACE_FEATURES, labels=SPACE_LABELS
    )
    traffic.inputs_record(space_id=space.pk, rows=[row(toss_height_cm=1.0)])
    traffic.inputs_record(space_id=other.pk, rows=[row(toss_height_cm=2.0)])
    assert [r["toss_height_cm"] for r in selectors.recent_inputs(space=other)] == [2.0]
