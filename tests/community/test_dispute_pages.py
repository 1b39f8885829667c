"""The contradictions triage page (total, filters, pages, grouped by teaching) and a
thread's disputes: each shown with its two teachings, and the resolve form deciding one of
several while the others stay open, with its effect previewed first."""

from __future__ import annotations

import pytest
from django.test import Client

from consensus.models import Contradiction
from tests.factories import SPACE_PAGES as P

pytestmark = pytest.mark.django_db


def _as(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _rule(space, user, condition: str, label: str):
    from teaching.services.rules import rule_create

    return rule_create(space=space, user=user, condition=condition, label=label)[0]


def _clash(space, first, second, severity: float, kind: str = "rule_overlap"):
    return Contradiction.objects.create(
        space=space,
        key=f"{kind}:{first.pk}:{second.pk}",
        kind=kind,
        teachings=[{"type": "rule", "id": first.pk}, {"type": "rule", "id": second.pk}],
        witness={"toss_height_cm": 95, "fatigued": True},
        evidence={"toss in front": 3, "high elbow": 1},
        severity=severity,
    )


@pytest.fixture
def three(space, teacher, expert, moderator):
    """A (teacher) against B and C (expert), and B against C; one thread holds all three."""
    from community.services.threads import thread_create

    a = _rule(space, teacher, "toss_height_cm > 80", "toss in front")
    b = _rule(space, expert, "toss_height_cm > 70", "high elbow")
    c = _rule(space, expert, "toss_height_cm > 90", "no cue")
    rows = [_clash(space, a, b, 0.9), _clash(space, a, c, 0.6), _clash(space, b, c, 0.3,
            "rule_exception")]  # fmt: skip
    thread = thread_create(
        space=space, user=moderator, title="Tall tosses",
        teachings=[{"type": "rule", "id": r.pk} for r in (a, b, c)],
    )  # fmt: skip
    return (a, b, c), rows, thread


def test_the_triage_page_counts_filters_and_groups(three, teacher):
    (a, _, c), _, _ = three
    page = _as(teacher).get(f"{P}/contradictions/").content.decode()
    assert "<strong>3</strong> contradictions" in page
    assert "rules that overlap" in page and "rule_overlap</" not in page  # kinds in words
    assert "WHEN toss_height_cm &gt; 80 THEN toss in front" in page and "by teacher" in page
    assert "<code>toss_height_cm = 95</code>" in page and "high elbow 1" in page

    def total(query: str) -> str:
        body = _as(teacher).get(f"{P}/contradictions/?{query}").content.decode()
        return body.split('id="contradiction-total"><strong>')[1].split("<")[0]

    assert total("kind=rule_exception") == "1"
    assert total("min_severity=0.5") == "2"
    assert total(f"teaching=rule:{c.pk}") == "2"
    assert total("member=teacher") == "2"
    assert total("has_thread=true") == "3" and total("has_thread=false") == "0"
    assert total("status=resolved") == "0"
    grouped = _as(teacher).get(f"{P}/contradictions/?view=teaching").content.decode()
    assert "about 3 teachings" in grouped and f"?teaching=rule:{a.pk}" in grouped


def test_a_bad_filter_says_which_on_the_page(three, teacher):
    response = _as(teacher).get(f"{P}/contradictions/?min_severity=2")
    assert response.status_code == 200
    assert "min_severity is a number between 0 and 1." in response.content.decode()


def test_the_triage_page_pages(space, teacher, expert):
    base = _rule(space, teacher, "toss_height_cm > 80", "toss in front")
    for i in range(30):
        _clash(space, base, _rule(space, expert, f"toss_height_cm > {40 + i}", "high elbow"),
               (i + 1) / 100)  # fmt: skip
    first = _as(teacher).get(f"{P}/contradictions/?member=expert").content.decode()
    assert "Page 1 of 2" in first and first.count('class="card dispute"') == 25
    assert 'href="?member=expert&amp;page=2"' in first
    second = _as(teacher).get(f"{P}/contradictions/?member=expert&page=2").content.decode()
    assert second.count('class="card dispute"') == 5


def test_a_thread_shows_each_dispute_with_its_two_teachings(three, teacher):
    (_, b, c), rows, thread = three
    page = _as(teacher).get(f"{P}/threads/{thread.pk}/").content.decode()
    assert "3 of 3 open" in page
    dispute = page.split(f'id="dispute-{rows[2].pk}"')[1].split("</li>\n</ul>")[0]
    assert "A rule inside another" in dispute and "0.30" in dispute
    assert f"Rule #{b.pk}</a> by expert" in dispute and f"Rule #{c.pk}</a> by expert" in dispute
    assert "WHEN toss_height_cm &gt; 90 THEN no cue" in dispute
    assert "toss_height_cm = 95" in dispute and "toss in front 3" in dispute


def test_resolving_one_dispute_leaves_the_others_open(three, moderator):
    (a, b, _), rows, thread = three
    url = f"{P}/threads/{thread.pk}/"
    form = {
        "action": "resolve",
        "outcome": "precedence",
        f"order-rule:{a.pk}": "1",
        f"order-rule:{b.pk}": "2",
        "contradictions": [str(rows[0].pk)],
        "note": "The front cue wins for tall tosses.",
    }
    preview = _as(moderator).post(f"{url}resolve/preview/", form).content.decode()
    assert "Closes 1 dispute" in preview and "2 stay open" in preview
    assert "the thread stays open" in preview
    assert {r.status for r in Contradiction.objects.all()} == {"open"}  # nothing written
    done = _as(moderator).post(url, form, follow=True).content.decode()
    assert "Resolved 1 dispute" in done and "2 of 3 open" in done
    statuses = {r.pk: r.status for r in Contradiction.objects.all()}
    assert statuses == {rows[0].pk: "resolved", rows[1].pk: "open", rows[2].pk: "open"}
    thread.refresh_from_db()
    assert thread.status == "open"


def test_the_preview_says_what_is_wrong_and_is_for_moderators(three, moderator, expert):
    _, _, thread = three
    url = f"{P}/threads/{thread.pk}/resolve/preview/"
    said = _as(moderator).post(url, {"outcome": "prefer", "note": "x"}).content.decode()
    assert 'class="error"' in said
    assert _as(expert).post(url, {"outcome": "dismiss"}).status_code == 403
