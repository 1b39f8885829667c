"""Moderation on the demo space in a real headless Chromium: a moderator triages the
contradictions and decides one dispute of a thread that holds several (the others stay
open); a novice sees the endorsement of her proposal in her inbox, with the unread count in
the header. The consensus check runs in the test process (on commit, as the worker would)."""

from __future__ import annotations

import re

import pytest

from tests.frontend.browser_kit import BROWSER, new_page, shot
from tests.frontend.browser_kit import log_in as log_in_as

pytestmark = [*BROWSER]


@pytest.fixture
def demo(transactional_db):
    from consensus.services import consensus_recompute
    from mola.demo import DEMO_SLUG, seed_demo
    from teaching.models import Space

    seed_demo()
    space = Space.objects.get(slug=DEMO_SLUG)
    consensus_recompute(space=space)  # stores the contradictions, opens threads, tells authors
    return space


@pytest.fixture
def pages(browser):
    """Opens pages (20 s timeouts: the demo's pages are larger); closes them afterwards."""
    opened = []

    def make():
        opened.append(new_page(browser, timeout_ms=20_000))
        return opened[-1]

    yield make
    for page in opened:
        page.context.close()


def log_in(page, live_server, username: str) -> None:
    from mola.demo import DEMO_PASSWORD

    log_in_as(page, live_server, username, DEMO_PASSWORD)


def _busy_thread(space):
    """A thread of the demo with at least two open disputes."""
    from django.db.models import Count, Q

    from community.models import Thread

    return (
        Thread.objects.filter(space=space)
        .annotate(open=Count("contradictions", filter=Q(contradictions__status="open")))
        .filter(open__gte=2)
        .order_by("-open")
        .first()
    )


def test_a_moderator_triages_and_decides_one_dispute_of_a_thread(demo, live_server, pages):
    from consensus.models import Contradiction

    thread = _busy_thread(demo)
    assert thread is not None, "the demo has no thread with two open disputes"
    open_before = list(
        thread.contradictions.filter(status="open")
        .order_by("-severity", "id")
        .values_list("pk", flat=True)
    )
    page = pages()
    log_in(page, live_server, "mona")
    space_url = f"{live_server.url}/spaces/{demo.slug}"

    # Triage: a total, filters in words, pages, grouped by teaching.
    page.goto(f"{space_url}/contradictions/")
    total = int(page.locator("#contradiction-total strong").inner_text())
    assert total == Contradiction.objects.filter(space=demo, status="open").count() > 0
    assert "rule_overlap" not in page.locator(".contradiction-list").inner_text()
    page.get_by_label("Severity").select_option("0.5")
    page.get_by_label("Thread").select_option("true")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url(re.compile(r"min_severity=0.5"))
    narrowed = int(page.locator("#contradiction-total strong").inner_text())
    assert (
        narrowed
        == Contradiction.objects.filter(
            space=demo, status="open", severity__gte=0.5, thread__isnull=False
        ).count()
    )
    page.get_by_role("link", name="Grouped by teaching").click()
    page.wait_for_url(re.compile(r"view=teaching"))
    assert page.locator("table tbody tr").count() > 0
    shot(page, "contradictions-by-teaching")

    # The thread: each dispute with its two teachings; decide the first one only.
    page.goto(f"{space_url}/threads/{thread.pk}/")
    assert page.locator("#open-count").inner_text() == (
        f"{len(open_before)} of {thread.contradictions.count()} open"
    )
    first = page.locator(f"#dispute-{open_before[0]}")
    assert " by " in first.inner_text() and "severity" in first.inner_text()
    page.get_by_label("Dismiss: a deliberate exception").check()
    page.locator(f"#d-{open_before[0]}").check()
    page.get_by_label("Why (the authors read it)").fill("Both cues are right for this case.")
    page.get_by_role("button", name="Preview the effect").click()
    preview = page.locator(".resolve-preview")
    preview.wait_for()
    assert "Closes 1 dispute" in preview.inner_text()
    assert f"{len(open_before) - 1} stay" in preview.inner_text()
    box = page.locator("section.resolve").bounding_box()
    assert box["height"] < 1500, box  # compact, not 3,000 px
    shot(page, "resolve-one-dispute")
    page.get_by_role("button", name="Resolve", exact=True).click()
    page.locator(".message.success").wait_for()
    assert "Resolved 1 dispute" in page.locator(".message.success").inner_text()
    assert page.locator("#open-count").inner_text().startswith(f"{len(open_before) - 1} of")
    statuses = dict(Contradiction.objects.filter(pk__in=open_before).values_list("pk", "status"))
    assert statuses[open_before[0]] == "dismissed"
    assert {statuses[pk] for pk in open_before[1:]} == {"open"}
    assert page.locator("#resolve-form").count() == 1  # the thread stays open
    assert page.errors == []


def test_a_novice_sees_the_endorsement_in_her_inbox(demo, live_server, pages):
    from teaching.models import Rule

    proposal = Rule.objects.filter(space=demo, author__username="eva", status="proposed").first()
    assert proposal is not None, "the demo has no proposal of eva's waiting"
    space_url = f"{live_server.url}/spaces/{demo.slug}"

    mona = pages()
    log_in(mona, live_server, "mona")
    mona.goto(f"{space_url}/review/?author=eva")
    item = mona.locator(f"li[data-ref='rule:{proposal.pk}']")
    assert proposal.condition in item.inner_text()
    item.get_by_role("button", name="Endorse", exact=True).click()
    mona.locator(".message.success").wait_for()

    eva = pages()
    log_in(eva, live_server, "eva")
    badge = eva.locator(".inbox-link .count-badge")
    unread = int(badge.inner_text())
    assert unread >= 1
    eva.locator(".inbox-link").click()
    told = eva.locator(".inbox-item", has_text=f"mona endorsed your rule #{proposal.pk}")
    assert told.count() == 1 and "unread" in told.inner_text()
    shot(eva, "inbox-endorsed")
    told.get_by_role("link").click()
    # One review leads to the teaching; several (the demo's seed endorsed some of hers
    # before) fold into one item that leads to her teachings.
    eva.wait_for_url(re.compile(rf"/(t/rule/{proposal.pk}|members/eva)/$"))
    after = eva.locator(".inbox-link .count-badge")
    assert (int(after.inner_text()) if after.count() else 0) == unread - 1
    assert eva.errors == [] and mona.errors == []
