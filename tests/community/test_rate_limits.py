"""Teaching writes are rate limited per member, more strictly for novices."""

from __future__ import annotations

import pytest

from tests.factories import SPACE_API as S

pytestmark = pytest.mark.django_db

RULE = {"condition": "toss_height_cm > 10", "label": "no cue"}


@pytest.fixture
def tight(settings):
    settings.TEACHING_WRITE_RATE_NOVICE = "3/min"
    settings.TEACHING_WRITE_RATE = "5/min"


def _burst(client, n: int) -> list[int]:
    return [client.post(f"{S}/rules", RULE, format="json").status_code for _ in range(n)]


def test_novices_hit_the_stricter_limit_with_retry_after(api, tight, novice):
    client = api(novice)
    assert _burst(client, 4) == [201, 201, 201, 429]
    limited = client.post(f"{S}/rules", RULE, format="json")
    assert limited.status_code == 429
    assert 1 <= int(limited["Retry-After"]) <= 60
    assert limited.json()["errors"][0]["code"] == "rate_limited"
    assert client.get(f"{S}/rules").status_code == 200  # reads are not limited


def test_other_members_have_the_generous_limit(api, tight, teacher, novice):
    assert _burst(api(teacher), 6) == [201] * 5 + [429]
    assert _burst(api(novice), 1) == [201]  # counted per member


def test_the_default_limits_let_a_burst_of_thirty_through(api, teacher):
    assert set(_burst(api(teacher), 30)) == {201}


def test_an_empty_rate_turns_the_limit_off(api, settings, novice):
    settings.TEACHING_WRITE_RATE_NOVICE = ""
    assert set(_burst(api(novice), 35)) == {201}
