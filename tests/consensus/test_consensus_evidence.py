"""A rule contradiction's counts are stored per rule (``RuleEvidence``) and put into its
evidence and note when shown: an example edit moves what a pair shows without rewriting the
pair's row, what is shown equals what a recompute shows, and a page reads every rule's
counts it needs in one query, however many rows and rules the space holds."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.models import F
from django.test import Client
from django.test.utils import CaptureQueriesContext

from consensus.models import Contradiction, RuleEvidence
from consensus.services import consensus_check, consensus_recompute
from teaching.models import Example, Space, Status
from teaching.services.examples import example_create
from teaching.services.rules import rule_create, rule_update
from tests.consensus.test_consensus_queries import _grow
from tests.factories import SPACE_API as S
from tests.factories import SPACE_PAGES as P
from tests.factories import row

pytestmark = pytest.mark.django_db


def _examples(space, author, label: str, height: float, count: int) -> None:
    common = {"space": space, "status": Status.ACTIVE, "revision": 1, "author": author}
    Example.objects.bulk_create(
        Example(features=row(toss_height_cm=height), label=label, **common) for _ in range(count)
    )
    Space.objects.filter(pk=space.pk).update(teaching_revision=F("teaching_revision") + 1)


def _overlaps(api, user) -> list[dict]:
    return api(user).get(f"{S}/contradictions?kind=rule_overlap&page_size=50").json()["results"]


def test_an_example_edit_moves_a_pairs_shown_evidence_without_rewriting_its_row(
    space, teacher, expert, api
):
    """30 examples of each rule's label where the rules overlap, and many more of its own
    label where each rule stands alone: neither rule is suspect, and the examples' weight
    is saturated, so one more example of a third label in the overlap moves the pair's
    evidence and nothing it stores."""
    rule_create(space=space, user=teacher, condition="toss_height_cm > 60", label="toss in front")
    rule_create(space=space, user=expert, condition="toss_height_cm < 80", label="no cue")
    _examples(space, expert, "toss in front", 70.0, 30)
    _examples(space, expert, "no cue", 70.0, 30)
    _examples(space, expert, "toss in front", 100.0, 40)
    _examples(space, expert, "no cue", 30.0, 40)
    consensus_check(space_id=space.pk)
    pair = Contradiction.objects.get(kind="rule_overlap")
    [shown] = _overlaps(api, expert)
    assert shown["evidence"] == {"toss in front": 30, "no cue": 30}
    assert "The examples there are split (30 for rule #" in shown["note"]
    assert pair.evidence == {} and "split" not in pair.note  # stored without the counts

    example_create(space=space, user=expert, features=row(toss_height_cm=75.0), label="high elbow")
    consensus_check(space_id=space.pk)
    after = Contradiction.objects.get(pk=pair.pk)
    stored = ("note", "evidence", "severity", "digest", "checked_revision")
    assert [getattr(after, name) for name in stored] == [getattr(pair, name) for name in stored]
    [moved] = _overlaps(api, expert)
    assert moved["evidence"] == {"toss in front": 30, "high elbow": 1, "no cue": 30}
    assert moved["note"] == shown["note"]  # the split is still 30 to 30
    assert moved["checked_revision"] == shown["checked_revision"]

    consensus_recompute(space=space)
    assert _overlaps(api, expert) == [moved]


def test_a_pair_that_closes_keeps_what_it_showed(space, teacher, expert, api):
    """Its rules' counts go on moving; a closed pair shows what it showed when it closed."""
    first, _ = rule_create(
        space=space, user=teacher, condition="toss_height_cm > 60", label="toss in front"
    )
    rule_create(space=space, user=expert, condition="toss_height_cm < 80", label="no cue")
    _examples(space, expert, "no cue", 70.0, 2)
    consensus_check(space_id=space.pk)
    [shown] = _overlaps(api, expert)
    rule_update(space=space, user=teacher, rule_id=first.pk, condition="toss_height_cm > 90")
    _examples(space, expert, "toss in front", 100.0, 3)
    consensus_check(space_id=space.pk)
    closed = api(expert).get(f"{S}/contradictions?kind=rule_overlap&status=resolved").json()
    [gone] = closed["results"]
    assert (gone["evidence"], gone["note"]) == (shown["evidence"], shown["note"])
    assert Contradiction.objects.get(pk=gone["id"]).evidence_from == []


def _page_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_list_pages_read_their_counts_in_a_bounded_number_of_queries(space, expert, api):
    """The API's list and the triage page, 100 rows a page: no more queries at five times
    20 rules and 80 examples (one query for the page's rules' counts)."""
    _grow(space, rules=20, examples=80)
    consensus_check(space_id=space.pk)
    pages = Client()
    pages.force_login(expert)
    urls = (f"{S}/contradictions?page_size=100", f"{P}/contradictions/")
    client = api(expert)
    small = [_page_queries(client, urls[0]), _page_queries(pages, urls[1])]
    _grow(space, rules=80, examples=320, seed=3)
    consensus_check(space_id=space.pk)
    assert Contradiction.objects.filter(space=space).count() > 400
    assert RuleEvidence.objects.filter(space=space).count() == 100
    large = [_page_queries(client, urls[0]), _page_queries(pages, urls[1])]
    # One query per teaching kind on the page: a page of rules alone reads one fewer.
    assert all(n <= m for n, m in zip(large, small, strict=True)) and max(small) <= 12


def test_a_dismissed_pair_whose_rule_is_retired_keeps_what_it_showed(space, teacher, expert, api):
    """Not found any more, closed already: its rule's counts are gone with the rule."""
    from consensus.decisions import contradictions_decide
    from teaching.services.common import teaching_retire

    rule_create(space=space, user=teacher, condition="toss_height_cm > 60", label="toss in front")
    second, _ = rule_create(
        space=space, user=expert, condition="toss_height_cm < 80", label="no cue"
    )
    _examples(space, expert, "no cue", 70.0, 2)
    consensus_check(space_id=space.pk)
    [shown] = _overlaps(api, expert)
    contradictions_decide(space=space, ids=[shown["id"]], status="dismissed", note="deliberate")
    teaching_retire(space=space, kind="rule", teaching_id=second.pk, user=expert)
    consensus_check(space_id=space.pk)
    assert not RuleEvidence.objects.filter(space=space, rule_id=second.pk).exists()
    closed = api(expert).get(f"{S}/contradictions?kind=rule_overlap&status=dismissed").json()
    [kept] = closed["results"]
    assert (kept["evidence"], kept["note"]) == (shown["evidence"], shown["note"])
    assert "split" in kept["note"] or "side with" in kept["note"]
