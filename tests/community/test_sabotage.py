"""Five new accounts teach wrong things on purpose. Review keeps it out of the model until
someone trusted endorses it; without review, a moderator's rollback undoes it exactly."""

from __future__ import annotations

import pytest

from teaching.services.predict import predict
from teaching.services.training import space_snapshot, train_space
from tests.factories import PASSWORD, row
from tests.factories import SPACE_API as S

pytestmark = pytest.mark.django_db

SABOTEURS = [f"vandal{i}" for i in range(5)]
GOOD_RULES = [
    ("toss_height_cm > 90", "toss in front"),
    ("elbow_angle < 90 and toss_height_cm <= 90", "high elbow"),
    ("toss_height_cm <= 90 and elbow_angle >= 90", "no cue"),
]
EVALUATION = [
    (row(toss_height_cm=120, elbow_angle=130), "toss in front"),
    (row(toss_height_cm=50, elbow_angle=70), "high elbow"),
    (row(toss_height_cm=40, elbow_angle=140), "no cue"),
    (row(toss_height_cm=100, elbow_angle=150, serve_type="jump"), "toss in front"),
    (row(toss_height_cm=60, elbow_angle=75, fatigued=True), "high elbow"),
]


def _answers(space) -> list[tuple[str, dict[str, float]]]:
    """Train now; the label and probabilities the model gives each evaluation case."""
    train_space(space_id=space.pk)
    space.refresh_from_db()
    result = predict(space=space, instances=[features for features, _ in EVALUATION])
    return [
        (p["label"], {k: round(v, 6) for k, v in p["probabilities"].items()})
        for p in result["predictions"]
    ]


def _high_elbow(answers) -> float:
    return sum(probabilities["high elbow"] for _, probabilities in answers)


def _sign_up(api, username: str):
    client = api()
    created = client.post(
        "/api/v1/users", {"username": username, "password": PASSWORD}, format="json"
    )
    assert created.status_code == 201, created.json()
    client.credentials(HTTP_AUTHORIZATION=f"Token {created.json()['token']}")
    assert client.post(f"{S}/members").status_code == 201
    return client


def _vandalise(client) -> list[dict]:
    """Wrong on purpose: everything is "high elbow", and the evaluation cases say so too."""
    written = [
        client.post(
            f"{S}/rules",
            {"condition": "toss_height_cm >= 0", "label": "high elbow", "rationale": "trust me"},
            format="json",
        )
    ]
    for features, label in EVALUATION:
        wrong = "high elbow" if label != "high elbow" else "no cue"
        written.append(
            client.post(f"{S}/examples", {"features": features, "label": wrong}, format="json")
        )
    assert all(r.status_code == 201 for r in written), [r.json() for r in written]
    return [r.json() for r in written]


def _snapshot_rules(space) -> set[int]:
    space.refresh_from_db()
    return {r.id for r in space_snapshot(space).rules}


@pytest.fixture
def taught(api, space, expert):
    client = api(expert)
    for condition, label in GOOD_RULES:
        assert (
            client.post(
                f"{S}/rules", {"condition": condition, "label": label}, format="json"
            ).status_code
            == 201
        )
    for features, label in EVALUATION:
        client.post(
            f"{S}/examples",
            {"features": features, "label": label, "evaluation": True},
            format="json",
        )
    return client


def test_with_review_nothing_reaches_the_model_until_endorsed(api, space, taught, moderator):
    before = _answers(space)
    assert [label for label, _ in before] == [label for _, label in EVALUATION]
    vandals = {name: _sign_up(api, name) for name in SABOTEURS}
    written = {name: _vandalise(client) for name, client in vandals.items()}
    assert {t["status"] for ts in written.values() for t in ts} == {"proposed"}
    assert _answers(space) == before
    queue = api(moderator).get(f"{S}/review?page_size=100").json()
    assert queue["count"] == 5 * (1 + len(EVALUATION))
    assert {t["author"] for t in queue["results"]} == set(SABOTEURS)

    # Endorsed, a teaching reaches the model; a reviewer rejects the rest.
    rule = written["vandal0"][0]
    assert rule["id"] not in _snapshot_rules(space)
    endorsed = api(moderator).post(f"{S}/rules/{rule['id']}/endorse", {}, format="json")
    assert endorsed.status_code == 200
    assert rule["id"] in _snapshot_rules(space)
    for name in SABOTEURS[1:]:
        for teaching in written[name]:
            kind = teaching["type"]
            response = api(moderator).post(
                f"{S}/{kind}s/{teaching['id']}/reject", {"note": "vandalism"}, format="json"
            )
            assert response.status_code == 200
    assert api(moderator).get(f"{S}/review").json()["count"] == len(EVALUATION)
    audit = api(moderator).get(f"{S}/audit?action=endorse,reject").json()
    assert audit["count"] == 1 + 4 * (1 + len(EVALUATION))


def test_without_review_a_rollback_restores_the_models_answers(api, space, taught, moderator):
    owner_client = api(moderator)
    patched = owner_client.patch(
        f"{S}", {"settings": {"review_novice_teachings": False}}, format="json"
    )
    assert patched.status_code == 200
    before = _answers(space)
    vandals = {name: _sign_up(api, name) for name in SABOTEURS}
    for client in vandals.values():
        assert {t["status"] for t in _vandalise(client)} == {"active"}
    vandalised = _answers(space)
    assert vandalised != before
    assert _high_elbow(vandalised) > _high_elbow(before)  # the vandals' label gained

    for name in SABOTEURS:
        response = owner_client.post(f"{S}/members/{name}/rollback", {}, format="json")
        assert response.status_code == 200, response.json()
        assert len(response.json()["reverted"]) == 1 + len(EVALUATION)
    assert _answers(space) == before
    rollbacks = owner_client.get(f"{S}/audit?action=rollback").json()["results"]
    assert sorted(e["target"]["username"] for e in rollbacks) == SABOTEURS
    assert {e["actor"] for e in rollbacks} == {"moderator"}
    credit = {c["username"]: c for c in owner_client.get(f"{S}/contributors").json()["results"]}
    assert credit["vandal0"]["rolled_back"] == 1 + len(EVALUATION)
    # Their teachings did answer predictions while they were live (predict credits them),
    # but the rollback costs more than that share earns.
    vandal = credit["vandal0"]
    assert vandal["reputation"] == max(0, -5 * vandal["rolled_back"] + round(100 * vandal["share"]))
    assert vandal["reputation"] < credit["expert"]["reputation"]
