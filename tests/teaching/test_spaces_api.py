import pytest

from tests.factories import SPACE_FEATURES, SPACE_LABELS

pytestmark = pytest.mark.django_db

URL = "/api/v1/spaces"


def _space_body(**changes):
    return {
        "slug": "swim",
        "name": "Swim",
        "features": SPACE_FEATURES,
        "labels": SPACE_LABELS,
        **changes,
    }


def test_creator_becomes_owner(api, outsider):
    response = api(outsider).post(URL, _space_body(), format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["settings"] == {"review_novice_teachings": True}
    me = api(outsider).get("/api/v1/me").json()
    assert me["memberships"] == [{"space": "swim", "role": "owner", "expertise": "master"}]


@pytest.mark.parametrize(
    ("features", "labels", "field", "code"),
    [
        ([{"name": "1x", "kind": "number"}], SPACE_LABELS, "features.0.name", "invalid_name"),
        ([{"name": "and", "kind": "number"}], SPACE_LABELS, "features.0.name", "reserved_name"),
        (
            [{"name": "x", "kind": "number", "min": 5, "max": 1}],
            SPACE_LABELS,
            "features.0.max",
            "invalid_range",
        ),
        (
            [{"name": "c", "kind": "category", "choices": ["a", "a"]}],
            SPACE_LABELS,
            "features.0.choices",
            "duplicate",
        ),
        ([{"name": "c", "kind": "category"}], SPACE_LABELS, "features.0.choices", "required"),
        (
            [{"name": "x", "kind": "number"}, {"name": "x", "kind": "boolean"}],
            SPACE_LABELS,
            "features.1.name",
            "duplicate",
        ),
        ([{"name": "x", "kind": "date"}], SPACE_LABELS, "features.0.kind", "invalid_choice"),
        ([{"name": "x", "kind": "number"}], [{"name": "only"}], "labels", "too_few"),
    ],
)
def test_schema_errors_name_the_field(api, outsider, features, labels, field, code):
    response = api(outsider).post(URL, _space_body(features=features, labels=labels), format="json")
    assert response.status_code == 400
    assert {"field": field, "code": code} in [
        {"field": e["field"], "code": e["code"]} for e in response.json()["errors"]
    ]
    assert api(outsider).get(URL).json()["count"] == 0


def test_a_taken_slug_is_a_conflict(api, space, outsider):
    response = api(outsider).post(URL, _space_body(slug="serve"), format="json")
    assert response.status_code == 409


def test_join_list_and_promote_members(api, space, owner, outsider):
    joined = api(outsider).post(f"{URL}/serve/members")
    assert joined.status_code == 201
    assert joined.json()["role"] == "teacher" and joined.json()["expertise"] == "novice"
    assert api(outsider).post(f"{URL}/serve/members").status_code == 409
    names = [m["username"] for m in api(outsider).get(f"{URL}/serve/members").json()["results"]]
    assert names == ["owner", "outsider"]
    promoted = api(owner).patch(
        f"{URL}/serve/members/outsider", {"expertise": "expert", "role": "moderator"}, format="json"
    )
    assert promoted.json()["expertise"] == "expert" and promoted.json()["expertise_verified"]


def test_only_moderators_change_members_and_only_owners_make_owners(api, space, moderator, teacher):
    url = f"{URL}/serve/members/teacher"
    assert api(teacher).patch(url, {"expertise": "master"}, format="json").status_code == 403
    assert api(moderator).patch(url, {"expertise": "expert"}, format="json").status_code == 200
    assert api(moderator).patch(url, {"role": "owner"}, format="json").status_code == 403


def test_the_last_owner_cannot_step_down(api, space, owner):
    response = api(owner).patch(f"{URL}/serve/members/owner", {"role": "teacher"}, format="json")
    assert response.status_code == 409


def test_schema_change_that_breaks_a_rule_is_refused_with_the_teachings(api, space, owner):
    rule = (
        api(owner)
        .post(
            f"{URL}/serve/rules",
            {"condition": "toss_height_cm > 60", "label": "no cue"},
            format="json",
        )
        .json()
    )
    features = [f for f in SPACE_FEATURES if f["name"] != "toss_height_cm"]
    response = api(owner).patch(f"{URL}/serve", {"features": features}, format="json")
    assert response.status_code == 409
    assert response.json()["errors"][0]["teachings"] == [{"type": "rule", "id": rule["id"]}]
    # An unrelated schema change goes through and bumps the revision.
    more = [*SPACE_FEATURES, {"name": "stance", "kind": "category", "choices": ["open"]}]
    ok = api(owner).patch(f"{URL}/serve", {"features": more}, format="json")
    assert ok.status_code == 200 and ok.json()["teaching_revision"] == rule["teaching_revision"] + 1


def test_settings_are_changed_by_moderators(api, space, moderator):
    response = api(moderator).patch(
        f"{URL}/serve", {"settings": {"review_novice_teachings": False}}, format="json"
    )
    assert response.json()["settings"]["review_novice_teachings"] is False


def test_a_space_builds_its_schema_once_per_features_and_labels(space):
    first = space.schema
    assert space.schema is first
    space.features = [f for f in space.features if f["name"] != SPACE_FEATURES[0]["name"]]
    assert SPACE_FEATURES[0]["name"] not in space.schema.feature_names
    space.refresh_from_db()
    assert space.schema is not first and space.schema.feature_names == first.feature_names
