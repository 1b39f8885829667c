"""The evaluation endpoints: who may call them, the 400s, and what each answers."""

from __future__ import annotations

import pytest

from teaching.services.rules import rule_create
from teaching.services.training import train_space
from tests.factories import SPACE_API as S
from tests.factories import row

pytestmark = pytest.mark.django_db


def _propose(client, label="toss in front", **values):
    return client.post(
        f"{S}/evaluation-cases", {"features": row(**values), "label": label}, format="json"
    )


@pytest.mark.parametrize(
    ("who", "expected"),
    [("anonymous", 401), ("outsider", 403), ("api_key", 403), ("novice", 201), ("owner", 201)],
)
def test_members_propose_cases(api, people, who, expected):
    response = _propose(api(people[who]))
    assert response.status_code == expected, response.json()
    if expected == 201:
        assert response.json()["status"] == "open"
        assert set(response.json()) >= {"id", "status"}


def test_bad_bodies_are_400s_naming_the_field(api, teacher):
    client = api(teacher)
    unknown = _propose(client, label="spin")
    assert unknown.status_code == 400
    assert unknown.json()["errors"][0]["field"] == "label"
    out_of_range = _propose(client, toss_height_cm=900)
    assert out_of_range.json()["errors"][0]["field"] == "features.toss_height_cm"
    not_an_object = client.post(
        f"{S}/evaluation-cases", {"features": [1], "label": "no cue"}, format="json"
    )
    assert not_an_object.status_code == 400
    assert not_an_object.json()["errors"][0]["field"] == "features"
    listed = client.get(f"{S}/evaluation-cases?status=maybe")
    assert listed.status_code == 400 and listed.json()["errors"][0]["field"] == "status"


def test_labels_are_hidden_until_one_has_answered(api, teacher, novice, expert):
    case_id = _propose(api(teacher)).json()["id"]
    before = api(novice).get(f"{S}/evaluation-cases").json()["results"][0]
    assert "labels" not in before and "label" not in before
    answered = api(novice).post(
        f"/api/v1/evaluation-cases/{case_id}/labels", {"label": "toss in front"}, format="json"
    )
    assert answered.status_code == 201
    body = answered.json()
    assert (body["status"], body["label"]) == ("agreed", "toss in front")
    assert {x["username"] for x in body["labels"]} == {"teacher", "novice"}
    again = api(novice).post(
        f"/api/v1/evaluation-cases/{case_id}/labels", {"label": "no cue"}, format="json"
    )
    assert again.status_code == 200 and again.json()["status"] == "contested"
    agreed = api(expert).get(f"{S}/evaluation-cases?status=contested").json()
    assert agreed["count"] == 1
    missing = api(expert).post("/api/v1/evaluation-cases/999/labels", {"label": "x"}, format="json")
    assert missing.status_code == 404


def test_agreement_shows_a_member_their_own_and_moderators_everyones(
    api, teacher, novice, moderator
):
    for values in ({"toss_height_cm": 95}, {"toss_height_cm": 100}):
        case_id = _propose(api(teacher), **values).json()["id"]
        api(novice).post(
            f"/api/v1/evaluation-cases/{case_id}/labels", {"label": "toss in front"}, format="json"
        )
    case_id = _propose(api(teacher), toss_height_cm=20).json()["id"]
    api(novice).post(
        f"/api/v1/evaluation-cases/{case_id}/labels", {"label": "no cue"}, format="json"
    )
    mine = api(novice).get(f"{S}/agreement").json()
    assert [m["username"] for m in mine["members"]] == ["novice"]
    assert set(mine) >= {"alpha", "per_label", "members"}
    assert set(mine["per_label"]) == {"toss in front", "high elbow", "no cue"}
    everyone = api(moderator).get(f"{S}/agreement").json()
    assert {m["username"] for m in everyone["members"]} == {"novice", "teacher"}
    assert mine["alpha"] is not None and mine["alpha"] < 1


def test_changes_and_publish(api, space, teacher, moderator, outsider):
    rule_create(space=space, user=teacher, condition="toss_height_cm > 90", label="toss in front")
    first = train_space(space_id=space.pk)
    changes = api(teacher).get(f"{S}/model/versions/{first.version}/changes")
    assert changes.status_code == 200
    assert changes.json()["previous"] is None
    assert changes.json()["agreed"] == {"now_right": [], "now_wrong": []}
    assert api(outsider).get(f"{S}/model/versions/{first.version}/changes").status_code == 403
    assert api(teacher).get(f"{S}/model/versions/99/changes").status_code == 404
    publish = f"{S}/model/versions/{first.version}/publish"
    assert api(teacher).post(publish).status_code == 403
    refused = api(moderator).post(publish)
    assert refused.status_code == 409 and refused.json()["errors"][0]["code"] == "not_held"


def test_since_last_visit(api, space, teacher):
    rule_create(space=space, user=teacher, condition="toss_height_cm > 90", label="toss in front")
    train_space(space_id=space.pk)
    _propose(api(teacher))
    first = api(teacher).get(f"{S}/since-last-visit").json()
    assert [v["version"] for v in first["versions"]] == [1]
    assert len(first["cases"]) == 1
    assert api(teacher).get(f"{S}/since-last-visit").json()["versions"] == []


def test_the_evaluation_settings_are_checked(api, space, owner):
    client = api(owner)
    bad = client.patch(S, {"settings": {"regression_guard": {"max_broken": -1}}}, format="json")
    assert bad.status_code == 400
    assert "max_broken" in str(bad.json()["errors"][0]["field"])
    too_low = client.patch(S, {"settings": {"evaluation_agreement": 0.2}}, format="json")
    assert too_low.status_code == 400
    ok = client.patch(
        S,
        {"settings": {"regression_guard": {"max_broken": 2}, "evaluation_agreement": 0.8}},
        format="json",
    )
    assert ok.status_code == 200, ok.json()
    assert ok.json()["settings"]["regression_guard"] == {"max_broken": 2}
    off = client.patch(S, {"settings": {"regression_guard": None}}, format="json")
    assert off.json()["settings"]["regression_guard"] is None
