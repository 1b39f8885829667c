"""Every page renders for every role: 200, or the right redirect or 403 — never a 500."""

from __future__ import annotations

import pytest

from tests.frontend.conftest import ROLES

MEMBERS = {"novice", "teacher", "moderator", "owner"}
TRUSTED = {"moderator", "owner"}  # the fixtures' novice and teacher are not experts


def space_pages(taught) -> dict[str, set[str]]:
    """Path → roles that get a 200 (other members get 403)."""
    s = "/spaces/serve"
    rule, concept, example = taught["rule"].pk, taught["concept"].pk, taught["example"].pk
    everyone = MEMBERS
    return {
        f"{s}/": everyone,
        f"{s}/teach/": everyone,
        f"{s}/t/rule/{rule}/": everyone,
        f"{s}/t/concept/{concept}/": everyone,
        f"{s}/t/example/{example}/": everyone,
        f"{s}/rules/": everyone,
        f"{s}/rules/?label=no+cue&author=novice&status=proposed&disputed=false": everyone,
        f"{s}/examples/": everyone,
        f"{s}/examples/?label=no+cue&author=teacher&status=active": everyone,
        f"{s}/playground/": everyone,
        f"{s}/members/": everyone,
        f"{s}/members/teacher/": everyone,
        f"{s}/members/owner/": everyone,
        f"{s}/review/": TRUSTED,
        f"{s}/keys/": TRUSTED,
        f"{s}/settings/": TRUSTED,
        f"{s}/contradictions/": everyone,
        f"{s}/threads/": everyone,
        f"{s}/threads/{taught['thread'].pk}/": everyone,
        f"{s}/contributors/": everyone,
        f"{s}/audit/": everyone,
        f"{s}/status/": everyone,
    }


READABLE = ("rules/", "examples/", "t/", "members/", "contradictions/", "threads/", "contributors/")


def _readable(path: str) -> bool:
    """Pages of a public space anyone signed in may read (``space_page(readers=True)``)."""
    return path.removeprefix("/spaces/serve/").startswith(READABLE)


@pytest.mark.parametrize("role", ROLES)
def test_every_space_page_answers_each_role(role, client_as, taught):
    client = client_as(role)
    for path, allowed in space_pages(taught).items():
        response = client.get(path)
        if role == "anonymous":
            assert response.status_code == 302, path
            assert response["Location"].startswith("/login/?next="), path
        elif role == "outsider":  # the space is public: what the API lets anyone read
            expected = 200 if _readable(path) else 403
            assert response.status_code == expected, (path, response.status_code)
            assert b"Join" in response.content, path
        else:
            expected = 200 if role in allowed else 403
            assert response.status_code == expected, (path, response.status_code)


@pytest.mark.parametrize("role", ROLES)
def test_site_pages_answer_each_role(role, client_as, taught):
    client = client_as(role)
    for path in ("/", "/login/", "/signup/"):
        assert client.get(path).status_code == 200, path
    notifications = client.get("/notifications/")
    assert notifications.status_code == (302 if role == "anonymous" else 200)


@pytest.mark.parametrize("role", sorted(MEMBERS))
def test_fragments_answer_members(role, client_as, taught):
    client = client_as(role)
    s = "/spaces/serve"
    assert client.post(f"{s}/teach/check/", {"condition": "high_toss"}).status_code == 200
    preview = client.post(f"{s}/teach/preview/", {"condition": "high_toss", "label": "no cue"})
    assert preview.status_code == 200
    predict = client.post(
        f"{s}/playground/predict/", {"f-toss_height_cm": "50"}, HTTP_HX_REQUEST="true"
    )
    assert predict.status_code == 200


def test_an_unknown_space_is_a_404(client_as, taught):
    assert client_as("teacher").get("/spaces/nowhere/").status_code == 404


def test_an_unknown_teaching_is_a_404(client_as, taught):
    assert client_as("teacher").get("/spaces/serve/t/rule/99999/").status_code == 404


def test_an_unknown_member_is_a_404(client_as, taught):
    assert client_as("teacher").get("/spaces/serve/members/nobody/").status_code == 404


def test_an_htmx_poll_after_logout_sends_the_page_to_login(client_as, taught):
    response = client_as("anonymous").get(
        "/spaces/serve/status/",
        HTTP_HX_REQUEST="true",
        HTTP_HX_CURRENT_URL="http://testserver/spaces/serve/",
    )
    assert response.status_code == 204
    assert response["HX-Redirect"].startswith("/login/?next=")


def test_the_contradictions_queue_shows_each_dispute_with_its_witness(client_as, taught):
    body = client_as("teacher").get("/spaces/serve/contradictions/").content.decode()
    assert "says toss in front" in body and "says no cue" in body
    assert "Where they disagree, e.g." in body
    assert f"/spaces/serve/threads/{taught['thread'].pk}/" in body
    resolved = client_as("teacher").get("/spaces/serve/contradictions/?status=resolved")
    assert b"No contradictions match these filters." in resolved.content


def test_an_outsider_sees_nothing_of_a_members_only_space(client_as, taught, space):
    space.settings = {**(space.settings or {}), "visibility": "members"}
    space.save(update_fields=["settings"])
    client = client_as("outsider")
    for path in space_pages(taught):
        response = client.get(path)
        assert response.status_code == 403, path
        assert b"open to its members only" in response.content, path


def test_a_reader_of_a_public_space_reads_but_writes_nothing(client_as, taught):
    from community.models import Post

    client = client_as("outsider")
    s = "/spaces/serve"
    page = client.get(f"{s}/threads/{taught['thread'].pk}/").content.decode()
    assert "reader" in page and 'id="join-form"' in page
    assert 'id="post-form"' not in page and "join the space to take part" in page
    assert 'id="add-examples"' not in client.get(f"{s}/examples/").content.decode()
    # A members' page says what a reader may read instead.
    teach = client.get(f"{s}/teach/")
    assert teach.status_code == 403 and b"Anyone signed in can read its" in teach.content
    posted = client.post(
        f"{s}/threads/{taught['thread'].pk}/", {"action": "post", "body": "I know better"}
    )
    assert posted.status_code == 403 and b"Join" in posted.content
    assert not Post.objects.filter(body="I know better").exists()
    edited = client.post(f"{s}/t/rule/{taught['rule'].pk}/", {"condition": "fatigued"})
    assert edited.status_code == 403
    taught["rule"].refresh_from_db()
    assert taught["rule"].condition == "high_toss"
