"""The playground before a model exists, and its input errors."""

from __future__ import annotations

from tests.factories import SPACE_PAGES as S


def test_it_says_when_the_space_has_no_model(client_as, taught):
    response = client_as("teacher").get(f"{S}/playground/")
    assert "no trained model yet" in response.content.decode()


def test_it_offers_one_input_per_feature(client_as, taught):
    body = client_as("teacher").get(f"{S}/playground/").content.decode()
    assert 'type="number" id="id_f-toss_height_cm"' in body and 'max="150"' in body
    assert '<select id="id_f-serve_type"' in body
    assert 'type="checkbox" id="id_f-fatigued"' in body


def test_a_missing_value_is_named(client_as, taught):
    response = client_as("teacher").post(
        f"{S}/playground/predict/", {"f-elbow_angle": "100"}, HTTP_HX_REQUEST="true"
    )
    assert "A value for toss_height_cm is needed" in response.content.decode()
