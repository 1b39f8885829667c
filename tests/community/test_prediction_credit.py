"""Predictions credit the people whose teachings produced them."""

import pytest

from teaching.services.training import train_space
from tests.factories import SPACE_API as S
from tests.factories import row

pytestmark = pytest.mark.django_db


def test_predictions_through_the_api_credit_the_teachers(api, space, teacher, expert, api_key):
    api(teacher).post(
        f"{S}/rules", {"condition": "toss_height_cm > 90", "label": "toss in front"}, format="json"
    )
    api(expert).post(f"{S}/rules", {"condition": "fatigued", "label": "no cue"}, format="json")
    train_space(space_id=space.pk)
    response = api(api_key).post(
        f"{S}/predict",
        {
            "instances": [
                row(toss_height_cm=100),
                row(toss_height_cm=100),
                row(toss_height_cm=10),
                row(toss_height_cm=10, fatigued=True),
            ]
        },
        format="json",
    )
    assert response.status_code == 200
    people = {c["username"]: c for c in api(teacher).get(f"{S}/contributors").json()["results"]}
    assert people["teacher"]["share"] > people["expert"]["share"] > 0
    assert people["owner"]["share"] == 0
