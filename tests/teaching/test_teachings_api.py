import pytest

from teaching.models import Rule, TeachingRevision
from tests.factories import SPACE_API as S
from tests.factories import row

pytestmark = pytest.mark.django_db


def post(client, path, body):
    return client.post(f"{S}/{path}", body, format="json")


def test_a_rule_is_created_with_its_revision_and_history(api, space, teacher):
    response = post(
        api(teacher),
        "rules",
        {"condition": "toss_height_cm > 60", "label": "toss in front", "rationale": "why"},
    )
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "active" and body["author"] == "teacher"
    assert body["teaching_revision"] == body["revision"] == 1
    history = api(teacher).get(f"{S}/rules/{body['id']}/history").json()["results"]
    assert [(h["revision"], h["action"], h["author"]) for h in history] == [
        (1, "create", "teacher")
    ]
    assert history[0]["content"]["condition"] == "toss_height_cm > 60"


def test_every_write_increases_the_teaching_revision(api, space, teacher):
    client = api(teacher)
    revisions = [
        post(client, "concepts", {"name": "high", "definition": "toss_height_cm > 90"}).json()[
            "teaching_revision"
        ]
    ]
    rule = post(client, "rules", {"condition": "high", "label": "no cue"}).json()
    revisions.append(rule["teaching_revision"])
    revisions.append(
        client.patch(f"{S}/rules/{rule['id']}", {"label": "high elbow"}, format="json").json()[
            "teaching_revision"
        ]
    )
    revisions.append(client.delete(f"{S}/rules/{rule['id']}").json()["teaching_revision"])
    assert revisions == sorted(set(revisions)) and len(revisions) == 4


def test_a_misspelt_feature_gets_position_and_suggestion(api, space, teacher):
    response = post(api(teacher), "rules", {"condition": "toss_heigth_cm > 60", "label": "no cue"})
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["field"] == "condition" and error["position"] == 0
    assert error["suggestion"] == "toss_height_cm"
    assert not Rule.objects.exists()


def test_a_misspelt_choice_gets_a_suggestion(api, space, teacher):
    response = post(api(teacher), "rules", {"condition": 'serve_type == "jmup"', "label": "no cue"})
    error = response.json()["errors"][0]
    assert response.status_code == 400 and error["suggestion"] == "jump"


def test_an_unknown_label_is_refused(api, space, teacher):
    response = post(api(teacher), "rules", {"condition": "fatigued", "label": "shout"})
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "label"


def test_a_concept_cycle_is_refused_with_its_path(api, space, teacher):
    client = api(teacher)
    post(client, "concepts", {"name": "a", "definition": "fatigued"})
    b = post(client, "concepts", {"name": "b", "definition": "a and toss_height_cm > 3"}).json()
    first = client.get(f"{S}/concepts?name=a").json()["results"][-1]
    response = client.patch(
        f"{S}/concepts/{first['id']}", {"definition": "b or fatigued"}, format="json"
    )
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["code"] == "concept_cycle" and error["cycle"] in ("a → b → a", "b → a → b")
    assert b["definition"] == "a and toss_height_cm > 3"


def test_editing_a_concept_lists_what_it_reaches(api, space, teacher):
    client = api(teacher)
    concept = post(client, "concepts", {"name": "high", "definition": "toss_height_cm > 90"})
    post(client, "concepts", {"name": "high_tired", "definition": "high and fatigued"})
    rule = post(client, "rules", {"condition": "high_tired", "label": "no cue"}).json()
    response = client.patch(
        f"{S}/concepts/{concept.json()['id']}",
        {"definition": "toss_height_cm > 100"},
        format="json",
    )
    assert response.status_code == 200
    dependents = response.json()["dependents"]
    assert {"type": "rule", "id": rule["id"]} in dependents
    assert any(d["type"] == "concept" and d["name"] == "high_tired" for d in dependents)


def test_a_used_concept_cannot_be_retired_or_renamed(api, space, teacher):
    client = api(teacher)
    concept = post(client, "concepts", {"name": "high", "definition": "toss_height_cm > 90"})
    post(client, "rules", {"condition": "high", "label": "no cue"})
    cid = concept.json()["id"]
    assert client.delete(f"{S}/concepts/{cid}").status_code == 409
    renamed = client.patch(f"{S}/concepts/{cid}", {"name": "tall"}, format="json")
    assert renamed.status_code == 409


def test_example_errors_name_each_field(api, space, teacher):
    bad = {
        "toss_height_cm": 500,
        "elbow_angle": "wide",
        "serve_type": "jmup",
        "fatigued": 1,
        "mood": "ok",
    }
    response = post(api(teacher), "examples", {"features": bad, "label": "no cue"})
    assert response.status_code == 400
    codes = {e["field"]: e["code"] for e in response.json()["errors"]}
    assert codes == {
        "features.toss_height_cm": "out_of_range",
        "features.elbow_angle": "wrong_type",
        "features.serve_type": "unknown_choice",
        "features.fatigued": "wrong_type",
        "features.mood": "unknown_feature",
    }


def test_a_missing_feature_is_named(api, space, teacher):
    features = row()
    del features["fatigued"]
    response = post(api(teacher), "examples", {"features": features, "label": "no cue"})
    assert response.json()["errors"][0] == {
        **response.json()["errors"][0],
        "field": "features.fatigued",
        "code": "missing_feature",
    }


def test_a_counterexample_must_lie_in_the_rule_with_another_label(api, space, teacher):
    client = api(teacher)
    rule = post(client, "rules", {"condition": "toss_height_cm > 60", "label": "no cue"}).json()
    outside = post(
        client,
        "examples",
        {"features": row(toss_height_cm=40), "label": "high elbow", "refutes": rule["id"]},
    )
    assert outside.status_code == 400 and outside.json()["errors"][0]["code"] == "does_not_refute"
    same = post(
        client,
        "examples",
        {"features": row(toss_height_cm=70), "label": "no cue", "refutes": rule["id"]},
    )
    assert same.status_code == 400 and same.json()["errors"][0]["field"] == "label"
    ok = post(
        client,
        "examples",
        {"features": row(toss_height_cm=70), "label": "high elbow", "refutes": rule["id"]},
    )
    assert ok.status_code == 201 and ok.json()["refutes"] == rule["id"]


def test_a_batch_is_all_or_nothing(api, space, teacher):
    items = [{"features": row(), "label": "no cue"} for _ in range(5)]
    items[3] = {"features": row(toss_height_cm=-1), "label": "no cue"}
    response = post(api(teacher), "examples", {"examples": items})
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "examples.3.features.toss_height_cm"
    assert api(teacher).get(f"{S}/examples").json()["count"] == 0
    items[3] = {"features": row(), "label": "high elbow", "evaluation": True}
    response = post(api(teacher), "examples", {"examples": items})
    assert response.status_code == 201
    assert len(response.json()["examples"]) == 5
    assert TeachingRevision.objects.filter(action="create").count() == 5


def test_revert_restores_an_earlier_revision(api, space, teacher):
    client = api(teacher)
    rule = post(client, "rules", {"condition": "toss_height_cm > 60", "label": "no cue"}).json()
    client.patch(f"{S}/rules/{rule['id']}", {"condition": "toss_height_cm > 80"}, format="json")
    client.delete(f"{S}/rules/{rule['id']}")
    reverted = client.post(
        f"{S}/rules/{rule['id']}/revert", {"revision": rule["revision"]}, format="json"
    )
    assert reverted.status_code == 200
    body = reverted.json()
    assert body["condition"] == "toss_height_cm > 60" and body["status"] == "active"
    actions = [h["action"] for h in client.get(f"{S}/rules/{rule['id']}/history").json()["results"]]
    assert actions == ["create", "edit", "retire", "revert"]
    missing = client.post(f"{S}/rules/{rule['id']}/revert", {"revision": 999}, format="json")
    assert missing.status_code == 404


def test_a_novice_proposes_and_a_trusted_member_endorses(api, space, novice, expert, teacher):
    proposed = post(api(novice), "rules", {"condition": "fatigued", "label": "no cue"}).json()
    assert proposed["status"] == "proposed"
    url = f"{S}/rules/{proposed['id']}/endorse"
    assert api(teacher).post(url).status_code == 403  # intermediate: not trusted
    assert api(novice).post(url).status_code == 403
    endorsed = api(expert).post(url)
    assert endorsed.status_code == 200 and endorsed.json()["status"] == "active"
    assert api(expert).post(url).status_code == 409


def test_with_review_off_a_novice_teaches_directly(api, space, owner, novice):
    api(owner).patch(S, {"settings": {"review_novice_teachings": False}}, format="json")
    body = post(api(novice), "rules", {"condition": "fatigued", "label": "no cue"}).json()
    assert body["status"] == "active"


def test_rollback_undoes_a_members_changes(api, space, teacher, novice, moderator, owner):
    api(owner).patch(S, {"settings": {"review_novice_teachings": False}}, format="json")
    good = post(
        api(teacher), "rules", {"condition": "toss_height_cm > 60", "label": "no cue"}
    ).json()
    bad = post(api(novice), "rules", {"condition": "fatigued", "label": "high elbow"}).json()
    response = api(moderator).post(f"{S}/members/novice/rollback", {}, format="json")
    assert response.status_code == 200
    assert response.json()["reverted"] == [{"type": "rule", "id": bad["id"]}]
    assert api(teacher).get(f"{S}/rules/{bad['id']}").json()["status"] == "retired"
    assert api(teacher).get(f"{S}/rules/{good['id']}").json()["status"] == "active"
    assert api(teacher).post(f"{S}/members/novice/rollback", {}, format="json").status_code == 403


def test_rollback_since_a_time_restores_what_others_wrote_before(
    api, space, novice, owner, moderator
):
    from django.utils import timezone

    api(owner).patch(S, {"settings": {"review_novice_teachings": False}}, format="json")
    rule = post(api(novice), "rules", {"condition": "fatigued", "label": "no cue"}).json()
    api(owner).patch(f"{S}/rules/{rule['id']}", {"label": "high elbow"}, format="json")
    since = timezone.now().isoformat()
    api(novice).patch(f"{S}/rules/{rule['id']}", {"label": "toss in front"}, format="json")
    response = api(moderator).post(f"{S}/members/novice/rollback", {"since": since}, format="json")
    assert response.json()["reverted"] == [{"type": "rule", "id": rule["id"]}]
    restored = api(owner).get(f"{S}/rules/{rule['id']}").json()
    assert (restored["label"], restored["status"]) == ("high elbow", "active")
