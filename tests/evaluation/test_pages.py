"""The evaluation page: proposing through the form (the API's validation), labelling, and
what a member sees of others' labels."""

from __future__ import annotations

import pytest

from evaluation.models import EvaluationCase

pytestmark = pytest.mark.django_db

PAGE = "/spaces/serve/evaluation/"


def _form(**values):
    base = {
        "f-toss_height_cm": "95",
        "f-elbow_angle": "120",
        "f-serve_type": "float",
        "label": "toss in front",
    }
    return {**base, **values}


def test_a_member_proposes_and_another_labels_through_the_page(client, teacher, novice):
    client.force_login(teacher)
    assert client.get(PAGE).status_code == 200
    created = client.post(PAGE, _form())
    assert created.status_code == 302
    case = EvaluationCase.objects.get()
    assert case.features["toss_height_cm"] == 95 and case.features["fatigued"] is False
    client.force_login(novice)
    html = client.get(PAGE).content.decode()
    assert f'id="case-{case.pk}"' in html and "teacher: toss in front" not in html
    labelled = client.post(f"{PAGE}{case.pk}/label/", {"label": "toss in front"})
    assert labelled.status_code == 302
    html = client.get(PAGE).content.decode()
    assert f'id="answered-{case.pk}"' in html and "teacher: toss in front" in html
    case.refresh_from_db()
    assert (case.status, case.label) == ("agreed", "toss in front")


def test_a_bad_proposal_shows_the_field_and_keeps_nothing(client, teacher, outsider):
    client.force_login(teacher)
    response = client.post(PAGE, _form(**{"f-toss_height_cm": "900"}))
    assert response.status_code == 400
    assert 'aria-invalid="true"' in response.content.decode()
    assert not EvaluationCase.objects.exists()
    client.force_login(outsider)
    assert client.get(PAGE).status_code == 403
