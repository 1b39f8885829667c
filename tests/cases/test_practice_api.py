"""The practice queue: ranked cases with a reason and the model's answer; answering one makes
an example (the usual review rules) and takes it out of the queue for good."""

import pytest

from cases.models import Case
from teaching.models import Example
from teaching.services.training import train_space
from tests.factories import SPACE_API as S
from tests.factories import row

pytestmark = pytest.mark.django_db

CONFLICT = row(toss_height_cm=120.0, fatigued=True)  # two rules of different labels fire
DISAGREE = row(toss_height_cm=31.0, elbow_angle=100.0)  # between two examples that disagree
UNCOVERED = row(toss_height_cm=10.0, elbow_angle=170.0, serve_type="underhand")
PLAIN = row(toss_height_cm=130.0)  # one rule: the model is sure


@pytest.fixture
def pool(api, space, teacher):
    client = api(teacher)
    for condition, label in (("toss_height_cm > 90", "toss in front"), ("fatigued", "no cue")):
        client.post(f"{S}/rules", {"condition": condition, "label": label}, format="json")
    for features, label in (
        (row(toss_height_cm=30.0, elbow_angle=100.0), "high elbow"),
        (row(toss_height_cm=32.0, elbow_angle=100.0), "no cue"),
        (row(toss_height_cm=140.0), "toss in front"),
    ):
        client.post(f"{S}/examples", {"features": features, "label": label}, format="json")
    train_space(space_id=space.pk)
    client.post(f"{S}/cases", {"cases": [CONFLICT, DISAGREE, UNCOVERED, PLAIN]}, format="json")
    return {c.features["toss_height_cm"]: c.pk for c in Case.objects.all()}


def _queue(client, **params):
    response = client.get(f"{S}/practice", params)
    assert response.status_code == 200, response.json()
    return response.json()


def test_the_queue_ranks_cases_with_their_reason_and_the_model_answer(api, pool, teacher):
    queue = _queue(api(teacher), limit=100)
    reasons = {item["case"]["id"]: item["reason"] for item in queue}
    assert reasons[pool[120.0]] == "conflict"
    assert reasons[pool[31.0]] == "experts_disagree"
    assert reasons[pool[10.0]] == "uncovered"
    assert reasons[pool[130.0]] == "uncertain"
    scores = [item["score"] for item in queue]
    assert scores == sorted(scores, reverse=True)  # an intermediate gets them by score
    assert queue[-1]["case"]["id"] == pool[130.0]  # the sure case is worth least
    for item in queue:
        model = item["model"]
        assert set(model["probabilities"]) == {"toss in front", "high elbow", "no cue"}
        assert model["probabilities"][model["label"]] == max(model["probabilities"].values())
        assert {"rules", "concepts", "examples", "contributors"} <= set(model["explanation"])
        assert item["case"]["features"] == Case.objects.get(pk=item["case"]["id"]).features


def test_harder_cases_go_first_to_higher_expertise(api, pool, expert, novice):
    hard = _queue(api(expert), limit=100)
    easy = _queue(api(novice), limit=100)
    assert {i["case"]["id"] for i in hard} == {i["case"]["id"] for i in easy}
    assert [i["difficulty"] for i in hard] == sorted((i["difficulty"] for i in hard), reverse=True)
    assert [i["difficulty"] for i in easy] == sorted(i["difficulty"] for i in easy)
    assert hard[0]["difficulty"] > easy[0]["difficulty"]


def test_answering_makes_an_example_and_the_case_leaves_the_queue(api, pool, space, teacher):
    client = api(teacher)
    case_id = _queue(client)[0]["case"]["id"]
    space.refresh_from_db()
    revision = space.teaching_revision
    response = client.post(f"{S}/practice/{case_id}", {"label": "no cue"}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    example = Example.objects.get(pk=body["id"])
    assert (example.label, example.author, example.status) == ("no cue", teacher, "active")
    assert example.features == Case.objects.get(pk=case_id).features
    assert body["teaching_revision"] == revision + 1 and body["case"] == case_id
    assert case_id not in [i["case"]["id"] for i in _queue(client, limit=100)]
    again = client.post(f"{S}/practice/{case_id}", {"label": "high elbow"}, format="json")
    assert again.status_code == 409 and again.json()["errors"][0]["code"] == "already_answered"
    assert Example.objects.filter(label="high elbow", features=example.features).count() == 0
    detail = client.get(f"{S}/cases/{case_id}").json()
    assert detail["answer"]["example"] == example.pk and detail["answer"]["label"] == "no cue"


def test_the_queue_never_offers_a_case_already_answered(api, pool, space, teacher, expert):
    answered = set()
    for turn in range(4):
        client = api(teacher if turn % 2 else expert)
        queue = _queue(client, limit=100)
        assert not answered & {i["case"]["id"] for i in queue}
        case_id = queue[0]["case"]["id"]
        assert (
            client.post(f"{S}/practice/{case_id}", {"label": "no cue"}, format="json").status_code
            == 201
        )
        answered.add(case_id)
        if turn == 1:
            train_space(space_id=space.pk)  # a new model version ranks afresh
    assert _queue(api(teacher), limit=100) == []


def test_a_novices_answer_waits_for_review(api, pool, novice):
    case_id = pool[120.0]
    body = api(novice).post(f"{S}/practice/{case_id}", {"label": "no cue"}, format="json").json()
    assert body["status"] == "proposed"
    assert case_id not in [i["case"]["id"] for i in _queue(api(novice), limit=100)]


def test_a_bad_label_answers_nothing(api, pool, teacher):
    case_id = pool[120.0]
    response = api(teacher).post(f"{S}/practice/{case_id}", {"label": "jump higher"}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "label"
    assert Case.objects.get(pk=case_id).answer is None
    assert (
        api(teacher).post(f"{S}/practice/999999", {"label": "no cue"}, format="json").status_code
        == 404
    )


def test_answers_count_in_the_contributors_credit(api, pool, expert):
    def teachings():
        rows = api(expert).get(f"{S}/contributors").json()
        rows = rows.get("results", rows) if isinstance(rows, dict) else rows
        mine = [r for r in rows if r["username"] == "expert"]
        return mine[0] if mine else {}

    before = teachings()
    api(expert).post(f"{S}/practice/{pool[31.0]}", {"label": "high elbow"}, format="json")
    after = teachings()
    assert after["accepted"] == before.get("accepted", 0) + 1
    assert after["reputation"] > before.get("reputation", 0)


def test_no_queue_before_a_model(api, space, teacher):
    api(teacher).post(f"{S}/cases", {"cases": [row()]}, format="json")
    response = api(teacher).get(f"{S}/practice")
    assert response.status_code == 409
    assert response.json()["errors"][0]["code"] == "untrained"


@pytest.mark.parametrize("role", ["anonymous", "outsider", "api_key"])
def test_only_members_practise(api, pool, people, role):
    client = api(people[role])
    assert client.get(f"{S}/practice").status_code in (401, 403)
    response = client.post(f"{S}/practice/{pool[120.0]}", {"label": "no cue"}, format="json")
    assert response.status_code in (401, 403)
    assert not Case.objects.filter(answer__isnull=False).exists()
