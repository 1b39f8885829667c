"""Every answer says what it cost its web thread (``Server-Timing``), for the benchmarks."""

import re

import pytest

from tests.factories import row

pytestmark = pytest.mark.django_db


def test_an_answer_carries_its_cpu_and_wall_time(api, space, api_key):
    response = api(api_key).post(
        "/api/v1/spaces/serve/predict", {"instances": [row()]}, format="json"
    )
    assert response.status_code == 409  # untrained: errors are timed too
    timing = re.fullmatch(r"cpu;dur=([\d.]+), total;dur=([\d.]+)", response["Server-Timing"])
    assert timing is not None, response["Server-Timing"]
    cpu, wall = (float(x) for x in timing.groups())
    assert cpu > 0 and wall > 0
