"""The cases page (pool, filter, coverage) and the practice page (answer, before and after)."""

import pytest

from cases.models import Case
from cases.services.pool import cases_import
from teaching.services.training import train_space
from tests.factories import SPACE_PAGES as P
from tests.factories import row

pytestmark = pytest.mark.django_db


@pytest.fixture
def pool(space, teacher):
    from teaching.services import rules

    rules.rule_create(
        space=space, user=teacher, condition="toss_height_cm > 90", label="toss in front"
    )
    cases_import(
        space=space, user=teacher, rows=[row(toss_height_cm=float(h)) for h in (10, 40, 95, 130)]
    )
    train_space(space_id=space.pk)
    return Case.objects.order_by("id")


def test_the_cases_page_lists_filters_and_covers(client_as, pool):
    client = client_as("teacher")
    page = client.get(f"{P}/cases/").content.decode()
    assert page.count("data-case=") == 4 and 'id="case-import"' in page
    # Values in the header's (the schema's) order: toss height, elbow angle, type, fatigued.
    first = pool.first().pk
    assert f"<td>{first}</td><td>10.0</td><td>120.0</td><td>float</td><td>False</td>" in page
    page = client.get(f"{P}/cases/", {"where": "toss_height_cm > 90"}).content.decode()
    assert page.count("data-case=") == 2
    page = client.get(f"{P}/cases/", {"where": "toss_heigth_cm > 90"}).content.decode()
    assert "toss_height_cm" in page and 'aria-invalid="true"' in page
    table = client.get(f"{P}/cases/coverage/").content.decode()
    assert "50 %" in table and "toss_height_cm &gt; 90" in table


def test_the_coverage_table_shows_a_page_of_rules_most_conflicting_first(client_as, pool, space):
    from teaching.models import Rule, Status

    author = Rule.objects.get(space=space).author
    Rule.objects.bulk_create(
        [
            Rule(
                space=space,
                author=author,
                condition=f"toss_height_cm > {h}",
                label="no cue",
                status=Status.ACTIVE,
            )
            for h in range(0, 120, 2)  # below 95: 2 cases in conflict, above: 1
        ]
    )
    client = client_as("teacher")
    first = client.get(f"{P}/cases/coverage/").content.decode()
    assert first.count("data-rule=") == 50 and "1–50 of 61" in first
    # Most conflicting first (the taught "toss in front" rule's cases 95 and 130), the
    # broadest first among equals; the least conflicting come last.
    assert "toss_height_cm &gt; 0<" in first.split("data-rule=")[1]
    last = client.get(f"{P}/cases/coverage/", {"page": 2}).content.decode()
    assert last.count("data-rule=") == 11 and "Page 2 of 2" in last
    assert "toss_height_cm &gt; 118<" in last and "toss_height_cm &gt; 118<" not in first
    by_rule = client.get(f"{P}/cases/coverage/", {"order": "rule"}).content.decode()
    assert "toss_height_cm &gt; 90" in by_rule.split("data-rule=")[1]  # taught first
    broadest = client.get(f"{P}/cases/coverage/", {"order": "coverage"}).content.decode()
    assert "toss_height_cm &gt; 0<" in broadest.split("data-rule=")[1]
    assert "toss_height_cm &gt; 118<" not in broadest  # covers one case: on page 2


def test_practice_answer_shows_the_model_before_and_after(client_as, pool, space):
    client = client_as("teacher")
    assert client.get(f"{P}/practice/").status_code == 200
    first = client.get(f"{P}/practice/next/").content.decode()
    case_id = int(first.split('data-case="')[1].split('"')[0])
    result = client.post(
        f"{P}/practice/{case_id}/answer/", {"label": "high elbow"}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert 'id="your-answer">high elbow' in result and 'id="answer-before"' in result
    space.refresh_from_db()
    waiting = client.get(
        f"{P}/practice/{case_id}/after/", {"revision": space.teaching_revision}
    ).content.decode()
    assert 'id="retraining"' in waiting  # not trained yet: it polls
    train_space(space_id=space.pk)
    after = client.get(
        f"{P}/practice/{case_id}/after/", {"revision": space.teaching_revision}
    ).content.decode()
    assert 'id="answer-after">high elbow' in after
    assert Case.objects.get(pk=case_id).answer.label == "high elbow"
    again = client.post(f"{P}/practice/{case_id}/answer/", {"label": "no cue"})
    assert again.status_code == 409


@pytest.mark.parametrize("role", ["anonymous", "outsider"])
def test_outsiders_do_not_see_cases(client_as, pool, role):
    response = client_as(role).get(f"{P}/cases/")
    assert response.status_code in (302, 403)
    assert b"data-case=" not in response.content


def test_a_novices_answer_waits_for_review_instead_of_a_retrain(client_as, pool):
    first = client_as("novice").get(f"{P}/practice/next/").content.decode()
    case_id = int(first.split('data-case="')[1].split('"')[0])
    result = client_as("novice").post(f"{P}/practice/{case_id}/answer/", {"label": "no cue"})
    page = result.content.decode()
    assert 'id="answer-pending"' in page and 'id="retraining"' not in page
