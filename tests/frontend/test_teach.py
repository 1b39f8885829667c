"""Teach: saving rules and concepts, the live syntax check, the rule preview, editing."""

from __future__ import annotations

from teaching.models import Concept, Rule, TeachingRevision
from tests.factories import SPACE_PAGES as S


def test_it_saves_a_rule(client_as, taught):
    response = client_as("teacher").post(
        f"{S}/rules/new/",
        {"condition": "toss_height_cm < 20", "label": "no cue", "rationale": "Too low."},
    )
    assert response.status_code == 302
    rule = Rule.objects.get(condition="toss_height_cm < 20")
    assert (rule.author.username, rule.status, rule.rationale) == ("teacher", "active", "Too low.")


def test_a_novice_rule_waits_for_endorsement(client_as, taught):
    client_as("novice").post(f"{S}/rules/new/", {"condition": "fatigued", "label": "high elbow"})
    assert Rule.objects.get(label="high elbow", condition="fatigued").status == "proposed"


def test_a_typo_is_shown_next_to_the_condition_and_nothing_is_saved(client_as, taught):
    response = client_as("teacher").post(
        f"{S}/rules/new/", {"condition": "toss_heigth_cm < 20", "label": "no cue"}
    )
    assert response.status_code == 400
    assert "toss_height_cm" in response.content.decode()
    assert 'id="condition-check"' in response.content.decode()
    assert not Rule.objects.filter(condition="toss_heigth_cm < 20").exists()


def test_an_unknown_label_is_refused(client_as, taught):
    response = client_as("teacher").post(
        f"{S}/rules/new/", {"condition": "fatigued", "label": "jump higher"}
    )
    assert response.status_code == 400
    assert "is not a label of this space" in response.content.decode()


def test_the_check_says_ok(client_as, taught):
    response = client_as("teacher").post(f"{S}/teach/check/", {"condition": "high_toss"})
    assert "OK" in response.content.decode()


def test_the_check_points_at_the_error_and_offers_the_nearest_name(client_as, taught):
    response = client_as("teacher").post(
        f"{S}/teach/check/",
        {"condition": "fatigued and toss_heigth_cm > 3", "target": "id_condition"},
    )
    body = response.content.decode()
    assert 'data-fix-position="13"' in body
    assert 'data-fix-with="toss_height_cm"' in body
    assert "<mark>toss_heigth_cm</mark>" in body


def test_a_concept_may_not_use_itself_in_the_check(client_as, taught):
    response = client_as("teacher").post(
        f"{S}/teach/check/",
        {"source": "definition", "definition": "high_toss and fatigued", "name": "high_toss"},
    )
    assert "OK" not in response.content.decode()


def test_the_preview_counts_the_examples_a_rule_covers(client_as, taught):
    response = client_as("teacher").post(
        f"{S}/teach/preview/", {"condition": "toss_height_cm > 90", "label": "no cue"}
    )
    body = response.content.decode()
    assert "It covers <strong>1</strong> of 1 examples" in body
    assert "0 agree" in body and "1 disagree" in body
    assert "Rules with another cue" in body and "high_toss" in body  # the taught rule overlaps


def test_the_page_and_the_api_preview_count_the_same_examples(api, client_as, taught, novice):
    """One preview: an evaluation example and a novice's proposed one are not teaching
    examples, for the page as for ``POST /rules/preview``."""
    from teaching.services.examples import example_create
    from tests.factories import row

    teacher = taught["example"].author
    example_create(
        space=taught["example"].space,
        user=teacher,
        features=row(toss_height_cm=95.0),
        label="no cue",
        evaluation=True,
    )
    example_create(
        space=taught["example"].space,
        user=novice,
        features=row(toss_height_cm=99.0),
        label="no cue",
    )
    example_create(
        space=taught["example"].space,
        user=teacher,
        features=row(toss_height_cm=97.0),
        label="no cue",
    )
    asked = {"condition": "toss_height_cm > 90", "label": "no cue"}
    covers = (
        api(teacher)
        .post("/api/v1/spaces/serve/rules/preview", asked, format="json")
        .json()["covers"]
    )
    body = client_as("teacher").post(f"{S}/teach/preview/", asked).content.decode()
    assert (covers["agreeing"], covers["disagreeing"]) == (1, 1)
    assert "It covers <strong>2</strong> of 2 examples" in body
    assert "1 agree" in body and "1 disagree" in body


def test_it_saves_a_concept(client_as, taught):
    response = client_as("teacher").post(
        f"{S}/concepts/new/", {"name": "tired", "definition": "fatigued"}
    )
    assert response.status_code == 302
    assert Concept.objects.filter(name="tired", definition="fatigued").exists()


def test_a_concept_name_clash_is_shown_by_the_name(client_as, taught):
    response = client_as("teacher").post(
        f"{S}/concepts/new/", {"name": "high_toss", "definition": "fatigued"}
    )
    assert response.status_code == 400
    assert 'id="id_concept_name-errors"' in response.content.decode()


def test_the_author_edits_a_rule(client_as, taught):
    rule = taught["rule"]
    response = client_as("teacher").post(
        f"{S}/t/rule/{rule.pk}/",
        {"condition": "high_toss and fatigued", "label": "no cue", "rationale": ""},
    )
    assert response.status_code == 302
    rule.refresh_from_db()
    assert (rule.condition, rule.label) == ("high_toss and fatigued", "no cue")


def test_another_teacher_cannot_edit_a_rule(client_as, taught):
    rule = taught["proposed"]
    response = client_as("teacher").post(
        f"{S}/t/rule/{rule.pk}/", {"condition": "high_toss", "label": "no cue"}
    )
    assert response.status_code == 403
    rule.refresh_from_db()
    assert rule.condition == "fatigued"


def test_retiring_and_reverting_a_rule(client_as, taught):
    rule = taught["rule"]
    client = client_as("teacher")
    client.post(f"{S}/t/rule/{rule.pk}/retire/")
    rule.refresh_from_db()
    assert rule.status == "retired"
    created = TeachingRevision.objects.get(kind="rule", teaching_id=rule.pk, action="create")
    client.post(f"{S}/t/rule/{rule.pk}/revert/", {"revision": created.revision})
    rule.refresh_from_db()
    assert rule.status == "active"
