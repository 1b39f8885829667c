"""After saving a teaching: a link to it, and how many contradictions it opened once the
consensus check has seen it; the "disputed" tag only where it informs, linked."""

from __future__ import annotations

import pytest
from django.test import Client

from consensus.models import Contradiction
from consensus.services import consensus_check
from teaching.models import Rule
from tests.factories import SPACE_PAGES as P

pytestmark = pytest.mark.django_db


def _as(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_saving_a_rule_links_it_and_tells_what_it_opened(space, teacher, expert):
    from teaching.services.rules import rule_create

    theirs, _ = rule_create(
        space=space, user=expert, condition="toss_height_cm > 70", label="high elbow"
    )
    client = _as(teacher)
    saved = client.post(
        f"{P}/rules/new/", {"condition": "toss_height_cm > 80", "label": "toss in front"},
        follow=True,
    ).content.decode()  # fmt: skip
    mine = Rule.objects.get(author=teacher)
    assert f'<a href="{P}/t/rule/{mine.pk}/">Rule #{mine.pk}</a> saved at revision' in saved
    assert f'hx-get="{P}/t/rule/{mine.pk}/disputes/?rev=' in saved
    fragment = f"{P}/t/rule/{mine.pk}/disputes/"
    assert "looking for contradictions" in client.get(fragment).content.decode()  # not yet
    consensus_check(space_id=space.pk)
    told = client.get(fragment).content.decode()
    assert "It is part of" in told and ">1 open contradiction</a>" in told
    assert f"rule #{theirs.pk}</a> by expert" in told and "a rule inside another" in told


def test_a_teaching_without_contradictions_says_so(space, teacher):
    from teaching.services.rules import rule_create

    rule, _ = rule_create(space=space, user=teacher, condition="fatigued", label="no cue")
    consensus_check(space_id=space.pk)
    told = _as(teacher).get(f"{P}/t/rule/{rule.pk}/disputes/").content.decode()
    assert "contradicts nothing" in told


@pytest.mark.parametrize("severity, thread, tagged", [(0.2, False, False), (0.7, False, True),
                                                       (0.2, True, True)])  # fmt: skip
def test_the_disputed_tag_shows_only_where_it_informs(
    space, teacher, expert, moderator, severity, thread, tagged
):
    from community.services.threads import thread_create
    from teaching.services.rules import rule_create

    a, _ = rule_create(space=space, user=teacher, condition="toss_height_cm > 80", label="no cue")
    b, _ = rule_create(
        space=space, user=expert, condition="toss_height_cm > 70", label="high elbow"
    )
    Contradiction.objects.create(
        space=space, key=f"rule_overlap:{a.pk}:{b.pk}", kind="rule_overlap",
        teachings=[{"type": "rule", "id": a.pk}, {"type": "rule", "id": b.pk}], severity=severity,
    )  # fmt: skip
    Rule.objects.filter(pk__in=[a.pk, b.pk]).update(disputed=True)
    opened = None
    if thread:
        opened = thread_create(space=space, user=moderator, title="Tosses",
                               teachings=[{"type": "rule", "id": a.pk}, {"type": "rule", "id": b.pk}])  # fmt: skip
    page = _as(teacher).get(f"{P}/t/rule/{a.pk}/").content.decode()
    profile = _as(teacher).get(f"{P}/members/teacher/").content.decode()
    assert ('class="tag disputed"' in page) is tagged
    assert ('class="tag disputed"' in profile) is tagged
    if tagged:
        link = (
            f"{P}/threads/{opened.pk}/" if thread else f"{P}/contradictions/?teaching=rule:{a.pk}"
        )
        assert f'<a class="tag disputed" href="{link}"' in page
