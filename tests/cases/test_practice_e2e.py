"""End to end through the API and a real Celery worker: import cases, answer the first case
of the queue, and see the model's answer on that case change once the retrain is served."""

import time

import pytest

from tests.factories import SPACE_API as S
from tests.factories import row
from tests.worker import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def _served(client, revision: int) -> dict:
    def ready():
        body = client.get(f"{S}/model").json()
        return body if (body["teaching_revision"] or 0) >= revision else None

    return wait_for(ready, timeout=90)


def test_answering_the_first_queue_case_changes_the_model_answer_on_it(
    api, celery_worker, space, teacher
):
    client = api(teacher)
    rule = client.post(
        f"{S}/rules", {"condition": "toss_height_cm > 90", "label": "toss in front"}, format="json"
    ).json()
    _served(client, rule["teaching_revision"])
    # Low tosses: no rule covers them, so only what the experts answer teaches the model.
    cases = [row(toss_height_cm=float(h), elbow_angle=float(60 + 2 * h)) for h in range(0, 60, 3)]
    imported = client.post(f"{S}/cases", {"cases": cases}, format="json")
    assert imported.status_code == 201 and imported.json()["imported"] == len(cases)

    first = client.get(f"{S}/practice").json()[0]
    before = first["model"]
    assert first["reason"] == "uncovered"
    answer = "no cue" if before["label"] != "no cue" else "high elbow"
    started = time.monotonic()
    written = client.post(f"{S}/practice/{first['case']['id']}", {"label": answer}, format="json")
    assert written.status_code == 201, written.json()
    _served(client, written.json()["teaching_revision"])
    waited = time.monotonic() - started
    after = client.get(f"{S}/cases/{first['case']['id']}").json()
    assert after["model"]["teaching_revision"] >= written.json()["teaching_revision"]
    assert after["model"]["label"] == answer, (before, after["model"])
    assert after["answer"]["label"] == answer
    assert first["case"]["id"] not in [i["case"]["id"] for i in client.get(f"{S}/practice").json()]
    print(f"answer to its retrain served: {waited:.2f} s")
