"""Proposals are reviewed, not discussed: a proposed teaching's contradictions are stored
(its review shows them) but open no thread until it is endorsed. Threads the check opened
keep a title that says what they hold now."""

from __future__ import annotations

import pytest

from community.models import Thread
from consensus.models import Contradiction
from consensus.services import consensus_check
from teaching.models import Status
from teaching.services.rules import rule_create
from teaching.services.trust import teaching_endorse

pytestmark = pytest.mark.django_db


def _threads_about(rule) -> list[Thread]:
    return [t for t in Thread.objects.all() if {"type": "rule", "id": rule.pk} in t.teachings]


def test_a_proposal_opens_no_thread_until_endorsed(space, teacher, novice, expert):
    rule_create(space=space, user=teacher, condition="toss_height_cm > 80", label="toss in front")
    proposal, _ = rule_create(
        space=space, user=novice, condition="toss_height_cm < 90", label="no cue"
    )
    assert proposal.status == Status.PROPOSED
    consensus_check(space_id=space.pk)
    stored = Contradiction.objects.filter(status="open")
    theirs = [c for c in stored if {"type": "rule", "id": proposal.pk} in c.teachings]
    assert theirs, "the proposal's contradictions are stored for its review"
    assert all(c.thread_id is None for c in theirs)
    assert _threads_about(proposal) == []

    teaching_endorse(space=space, kind="rule", teaching_id=proposal.pk, user=expert)
    consensus_check(space_id=space.pk)
    threads = _threads_about(proposal)
    assert len(threads) == 1
    assert {c.thread_id for c in Contradiction.objects.filter(pk__in=[c.pk for c in theirs])} == {
        threads[0].pk
    }


def test_a_check_thread_title_follows_what_it_holds(space, teacher, expert, moderator):
    front, _ = rule_create(
        space=space, user=teacher, condition="toss_height_cm > 80", label="toss in front"
    )
    rule_create(space=space, user=expert, condition="toss_height_cm < 90", label="high elbow")
    consensus_check(space_id=space.pk)
    (thread,) = _threads_about(front)
    assert "related" not in thread.title
    rule_create(
        space=space, user=moderator, condition="toss_height_cm between 60 and 100", label="no cue"
    )
    consensus_check(space_id=space.pk)
    thread.refresh_from_db()
    held = thread.contradictions.filter(status="open").count()
    assert held >= 3 and len(thread.teachings) == 3
    assert thread.title.endswith(f"(and {held - 1} related disagreements)")


def test_a_hand_opened_thread_keeps_its_title(space, teacher, expert, moderator):
    from community.services.threads import thread_create

    front, _ = rule_create(
        space=space, user=teacher, condition="toss_height_cm > 80", label="toss in front"
    )
    elbow, _ = rule_create(
        space=space, user=expert, condition="toss_height_cm < 90", label="high elbow"
    )
    consensus_check(space_id=space.pk)
    Thread.objects.all().delete()
    mine = thread_create(
        space=space,
        user=teacher,
        title="Which cue on a high toss?",
        teachings=[{"type": "rule", "id": front.pk}, {"type": "rule", "id": elbow.pk}],
    )
    rule_create(
        space=space, user=moderator, condition="toss_height_cm between 60 and 100", label="no cue"
    )
    consensus_check(space_id=space.pk)
    mine.refresh_from_db()
    assert mine.title == "Which cue on a high toss?"


def test_a_review_item_sums_up_what_a_proposal_would_contradict(space, teacher, expert, novice):
    from consensus.selectors import teachings_disputes

    rule_create(space=space, user=teacher, condition="toss_height_cm > 80", label="toss in front")
    rule_create(space=space, user=expert, condition="toss_height_cm > 85", label="high elbow")
    proposal, _ = rule_create(
        space=space, user=novice, condition="toss_height_cm < 90", label="no cue"
    )
    consensus_check(space_id=space.pk)
    ref = f"rule:{proposal.pk}"
    summary = teachings_disputes(space=space, refs=[ref])[ref]
    theirs = [
        c
        for c in Contradiction.objects.filter(status="open")
        if {"type": "rule", "id": proposal.pk} in c.teachings
    ]
    assert summary.count == len(theirs) == 2
    assert summary.against == {"rule": 2}
    top = max(theirs, key=lambda c: (c.severity, -c.pk))
    assert summary.most_severe["id"] == top.pk and summary.most_severe["summary"] == top.summary
