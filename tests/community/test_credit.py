"""Credit: predictions counted in the cache, and the contributors list built on them."""

from __future__ import annotations

import pytest

from community.selectors.contributors import reputation
from community.selectors.credit import prediction_counts
from community.services import credit
from community.services.credit import BUCKET_SECONDS, credit_key, current_bucket, record_predictions
from tests.factories import SPACE_API as S

pytestmark = pytest.mark.django_db


def test_predictions_are_counted_per_member_once_per_prediction(space):
    record_predictions(space.pk, [["teacher", "expert", "teacher"], ["expert"], []])
    record_predictions(space_id=space.pk, contributors=[["expert"]])
    total, counts = prediction_counts(space_id=space.pk, usernames=["teacher", "expert", "x"])
    assert total == 4
    assert counts == {"teacher": 1, "expert": 3, "x": 0}


def test_old_hours_fall_out_of_the_window(space, settings):
    import time

    settings.CREDIT_WINDOW_HOURS = 2
    record_predictions(space.pk, [["teacher"]])
    later = time.time() + 3 * BUCKET_SECONDS
    assert prediction_counts(space_id=space.pk, usernames=["teacher"], now=later) == (
        0,
        {"teacher": 0},
    )


def test_predict_credit_never_raises(space, monkeypatch):
    from django.core.cache import cache

    def broken(*args, **kwargs):
        raise ConnectionError("cache down")

    monkeypatch.setattr(cache, "add", broken)
    record_predictions(space.pk, [["teacher"]])  # no exception
    credit.flush()  # the cache write fails here: logged, not raised
    assert prediction_counts(space_id=space.pk, usernames=["teacher"]) == (0, {"teacher": 0})


def test_predict_counts_in_memory_and_a_flush_writes_the_cache(space):
    from django.core.cache import cache

    total_key = credit_key(space.pk, current_bucket())
    record_predictions(space.pk, [["teacher"], ["teacher", "expert"]])
    assert cache.get(total_key) is None  # not one cache write on the predict path
    credit.flush()
    assert cache.get(total_key) == 2
    assert cache.get(credit_key(space.pk, current_bucket(), "teacher")) == 2
    record_predictions(space.pk, [["expert"]])
    credit.flush()
    assert cache.get(total_key) == 3  # added to, not overwritten


def test_a_timer_flushes_within_the_interval(space, monkeypatch):
    import time

    from django.core.cache import cache

    monkeypatch.setattr(credit._buffer, "every", 0.05)
    record_predictions(space.pk, [["teacher"]])
    deadline = time.monotonic() + 5
    while cache.get(credit_key(space.pk, current_bucket())) is None:
        assert time.monotonic() < deadline, "the pending credit was never flushed"
        time.sleep(0.02)
    assert cache.get(credit_key(space.pk, current_bucket(), "teacher")) == 1


def test_counts_from_many_threads_are_all_kept(space, monkeypatch):
    import threading

    monkeypatch.setattr(credit._buffer, "every", 0.001)  # timers flush while threads count

    def predict_many():
        for _ in range(300):
            record_predictions(space.pk, [["teacher"], ["teacher", "expert"]])

    threads = [threading.Thread(target=predict_many) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    total, counts = prediction_counts(space_id=space.pk, usernames=["teacher", "expert"])
    assert total == 6 * 300 * 2
    assert counts == {"teacher": 6 * 300 * 2, "expert": 6 * 300}


def test_the_contributors_list(api, space, dispute, thread, moderator, teacher, expert):
    from community.services.resolutions import thread_resolve

    front, _ = dispute
    thread_resolve(
        thread=thread,
        user=moderator,
        outcome="prefer",
        retire=[{"type": "rule", "id": front.pk}],
        note="Elbow.",
    )
    record_predictions(space.pk, [["expert"], ["expert"], ["expert", "teacher"], []])
    body = api(teacher).get(f"{S}/contributors").json()
    assert body["predictions"] == 4 and body["window_hours"] == 168
    credit = {c["username"]: c for c in body["results"]}
    assert credit["expert"]["teachings"]["active"] == 1
    assert credit["expert"]["resolutions_in_favour"] == 1
    assert credit["expert"]["share"] == 0.75
    assert credit["teacher"]["teachings"]["retired"] == 1
    assert credit["teacher"]["resolutions_against"] == 1
    assert (
        credit["expert"]["reputation"]
        == reputation(accepted=1, in_favour=1, against=0, rejected=0, rolled_back=0, share=0.75)
        == 10 + 20 + 75
    )
    assert credit["teacher"]["reputation"] == 0 + 0 - 10 + 25 == 15
    assert body["results"][0]["username"] == "expert"  # highest reputation first


def test_reputation_never_goes_below_zero():
    assert reputation(accepted=0, in_favour=0, against=5, rejected=3, rolled_back=9, share=0.0) == 0
