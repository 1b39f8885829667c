"""A space's ``visibility``: ``public`` (the default) lets any signed-in user read its
teachings, threads, contradictions, contributors and members; ``members`` hides all of it
from non-members, in the API and on the pages alike. Model, audit log and case pool are for
members either way (and the evaluation cases and their agreement)."""

import pytest

from tests.factories import SPACE_API as S

pytestmark = pytest.mark.django_db

READS = [
    S,
    f"{S}/members",
    f"{S}/rules",
    f"{S}/rules/{{rule}}",
    f"{S}/rules/{{rule}}/history",
    f"{S}/threads",
    "/api/v1/threads/{thread}",
    f"{S}/contradictions",
    f"{S}/contradictions/by-teaching",
    f"{S}/contributors",
]
ALWAYS_MEMBERS = [
    f"{S}/model",
    f"{S}/audit",
    f"{S}/cases",
    f"{S}/evaluation-cases",
    f"{S}/agreement",
]


@pytest.fixture
def world(space, teacher):
    from community.services.threads import thread_create
    from teaching.services.teachings import teaching_create

    rule, _ = teaching_create(
        space=space,
        user=teacher,
        kind="rule",
        condition="toss_height_cm > 60",
        label="toss in front",
    )
    thread = thread_create(
        space=space, user=teacher, title="Tosses", teachings=[{"type": "rule", "id": rule.id}]
    )
    return {"rule": rule.id, "thread": thread.id}


def _urls(urls, world):
    return [url.format(**world) for url in urls]


def _visibility(api, owner, value):
    response = api(owner).patch(S, {"settings": {"visibility": value}}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["settings"]["visibility"] == value


def test_a_public_space_is_read_by_any_signed_in_user(api, owner, outsider, world):
    client = api(outsider)
    for url in _urls(READS, world):
        assert client.get(url).status_code == 200, url
    for url in ALWAYS_MEMBERS:
        assert client.get(url).status_code == 403, url
    assert [s["slug"] for s in client.get("/api/v1/spaces").json()["results"]] == ["serve"]


def test_a_members_only_space_shows_nothing_to_outsiders(api, owner, outsider, teacher, world):
    _visibility(api, owner, "members")
    client = api(outsider)
    for url in _urls(READS, world) + ALWAYS_MEMBERS:
        response = client.get(url)
        assert response.status_code == 403, url
        assert response.json()["errors"][0]["code"] == "not_a_member", url
    assert client.get("/api/v1/spaces").json()["results"] == []
    member = api(teacher)
    for url in _urls(READS, world):
        assert member.get(url).status_code == 200, url
    assert [s["slug"] for s in member.get("/api/v1/spaces").json()["results"]] == ["serve"]
    # joining stays open: a member sees it all
    assert client.post(f"{S}/members").status_code == 201
    assert client.get(f"{S}/rules").status_code == 200


def test_the_pages_follow_the_same_rule(api, client, owner, outsider, space):
    space.description = "Cues for the serve toss"
    space.save()
    client.force_login(outsider)
    assert "Cues for the serve toss" in client.get("/spaces/serve/").content.decode()
    assert "serve" in client.get("/").content.decode()
    _visibility(api, owner, "members")
    page = client.get("/spaces/serve/")
    assert page.status_code == 403
    assert "Cues for the serve toss" not in page.content.decode()
    assert "/spaces/serve/" not in client.get("/").content.decode()


@pytest.mark.parametrize(
    "values, field",
    [
        ({"visibility": "secret"}, "settings.visibility"),
        ({"colour": "blue"}, "settings.colour"),
        ({"review_novice_teachings": False, "reveiw_novices": True}, "settings.reveiw_novices"),
    ],
)
def test_an_unknown_setting_or_visibility_is_refused_by_name(api, owner, space, values, field):
    response = api(owner).patch(S, {"settings": values}, format="json")
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == [field]
    space.refresh_from_db()
    assert "visibility" not in space.settings and "colour" not in space.settings


def test_a_space_is_created_members_only(api, owner):
    from tests.factories import SPACE_FEATURES, SPACE_LABELS

    body = {
        "slug": "closed",
        "name": "Closed",
        "features": SPACE_FEATURES,
        "labels": SPACE_LABELS,
        "settings": {"visibility": "members"},
    }
    assert api(owner).post("/api/v1/spaces", body, format="json").status_code == 201
    from teaching.models import Space

    assert Space.objects.get(slug="closed").visibility == "members"
