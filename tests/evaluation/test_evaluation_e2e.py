"""Through the API and a real worker (PostgreSQL + Redis in CI's second run): members agree
on cases, a teaching write retrains, and the new version carries its scorecard and tells
its writer what it changed; a contested case goes to a thread that a resolution settles."""

import pytest

from tests.conftest import _member
from tests.factories import SPACE_API as S
from tests.factories import row
from tests.worker import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def _rule(client, condition, label):
    response = client.post(f"{S}/rules", {"condition": condition, "label": label}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def _version(client, revision):
    def served():
        body = client.get(f"{S}/model").json()
        return body if (body["teaching_revision"] or 0) >= revision else None

    return wait_for(served, timeout=60)


def test_a_teaching_changes_agreed_cases_and_its_writer_is_told(
    api, celery_worker, space, owner, expert, teacher, moderator
):
    master = _member(space, owner, "master", "teacher", "master")
    first = _rule(api(teacher), "toss_height_cm > 90", "toss in front")
    _version(api(teacher), first["teaching_revision"])
    cases = {}
    for name, features, label in [
        ("front", row(toss_height_cm=100), "toss in front"),
        ("elbow", row(toss_height_cm=40, elbow_angle=70), "high elbow"),
    ]:
        made = api(master).post(
            f"{S}/evaluation-cases", {"features": features, "label": label}, format="json"
        )
        assert made.status_code == 201, made.json()
        cases[name] = made.json()["id"]
        labelled = api(expert).post(
            f"/api/v1/evaluation-cases/{cases[name]}/labels", {"label": label}, format="json"
        )
        assert labelled.json()["status"] == "agreed"

    added = _rule(api(master), "elbow_angle < 90", "high elbow")
    _version(api(master), added["teaching_revision"])
    versions = api(master).get(f"{S}/model/versions").json()["results"]
    # The first version of the new revision (a refine would follow it, compared with it).
    model = min(
        (v for v in versions if v["teaching_revision"] == added["teaching_revision"]),
        key=lambda v: v["version"],
    )
    assert model["metrics"]["scorecard"]["n_cases"] == 2
    assert model["metrics"]["scorecard"]["accuracy"] == 1.0
    changes = api(master).get(f"{S}/model/versions/{model['version']}/changes").json()
    assert changes["agreed"] == {"now_right": [cases["elbow"]], "now_wrong": []}
    assert changes["causes"] == [
        {
            "teaching": {"type": "rule", "id": added["id"]},
            "author": "master",
            "cases": [cases["elbow"]],
            "answers": 0,
        }
    ]
    told = f"Your rule #{added['id']} changed"
    inbox = api(master).get("/api/v1/me/notifications").json()["results"]
    # The message commits with the version's report (one transaction); what the inbox and
    # the versions held is printed if it is missing (CI once missed it, not reproduced).
    assert any(told in n["message"] for n in inbox), (
        [n["message"] for n in inbox],
        [(v["version"], v["teaching_revision"], v["status"]) for v in versions],
        changes,
    )

    # A contested case: the master against two novices at the default threshold.
    novices = [_member(space, owner, f"novice{i}", "teacher", "novice") for i in (1, 2)]
    contested = (
        api(master)
        .post(
            f"{S}/evaluation-cases",
            {"features": row(toss_height_cm=95), "label": "no cue"},
            format="json",
        )
        .json()["id"]
    )
    for novice in novices:
        api(novice).post(
            f"/api/v1/evaluation-cases/{contested}/labels",
            {"label": "toss in front"},
            format="json",
        )
    listed = api(moderator).get(f"{S}/contradictions?kind=evaluation_disagreement").json()
    (dispute,) = listed["results"]
    assert dispute["thread"] is not None and dispute["teachings"] == []
    resolved = api(moderator).post(
        f"/api/v1/threads/{dispute['thread']}/resolve",
        {"outcome": "dismiss", "contradictions": [dispute["id"]], "note": "The master is right."},
        format="json",
    )
    assert resolved.status_code in (200, 201), resolved.json()
    (settled,) = api(master).get(f"{S}/evaluation-cases?status=agreed").json()["results"][-1:]
    assert (settled["id"], settled["label"], settled["settled"]) == (contested, "no cue", True)
