"""The contradictions list: a count, pages, filters by kind, teaching, member, severity,
thread and status, most severe first; and the same grouped by teaching. On rows a real
consensus check stored (the store fills the teaching and author columns the filters use)."""

from __future__ import annotations

import pytest

from community.services.threads import thread_create
from consensus.models import Contradiction
from consensus.services import consensus_check
from teaching.services.rules import rule_create
from tests.factories import SPACE_API as S

pytestmark = pytest.mark.django_db


@pytest.fixture
def disputed(space, teacher, expert, moderator):
    """Nine overlapping rules by three authors, checked: dozens of stored contradictions."""
    labels = ["toss in front", "high elbow", "no cue"]
    rules = []
    for i, author in enumerate([teacher, expert, moderator] * 3):
        rule, _ = rule_create(
            space=space,
            user=author,
            condition=f"toss_height_cm > {40 + 5 * i}",
            label=labels[i % 3],
        )
        rules.append(rule)
    consensus_check(space_id=space.pk)
    assert Contradiction.objects.filter(status="open").count() >= 20
    return rules


def _all(api, user, query: str) -> dict:
    return api(user).get(f"{S}/contradictions?page_size=500&{query}").json()


def _refs(item) -> set[tuple[str, int]]:
    return {(t["type"], t["id"]) for t in item["teachings"]}


def test_pages_count_and_order(api, teacher, disputed):
    everything = _all(api, teacher, "")
    total = everything["count"]
    assert total == Contradiction.objects.filter(status="open").count()
    ids = [c["id"] for c in everything["results"]]
    pages = []
    page = api(teacher).get(f"{S}/contradictions?page_size=7").json()
    while True:
        assert page["count"] == total and len(page["results"]) <= 7
        pages += [c["id"] for c in page["results"]]
        if page["next"] is None:
            break
        page = api(teacher).get(page["next"]).json()
    assert pages == ids  # every row once, in one order
    severities = [c["severity"] for c in everything["results"]]
    assert severities == sorted(severities, reverse=True)


def test_filters_by_teaching_member_severity_kind_and_status(api, teacher, expert, disputed):
    rule = disputed[4]
    by_teaching = _all(api, teacher, f"teaching=rule:{rule.pk}")
    assert by_teaching["count"] > 0
    assert all(("rule", rule.pk) in _refs(c) for c in by_teaching["results"])
    assert by_teaching["count"] == sum(
        1
        for c in Contradiction.objects.filter(status="open")
        if {"type": "rule", "id": rule.pk} in c.teachings
    )
    by_member = _all(api, teacher, "member=expert")["results"]
    experts = {r.pk for r in disputed if r.author_id == expert.pk}
    assert by_member and all(
        any(t["author"] == "expert" for t in c["teachings"]) for c in by_member
    )
    assert {c["id"] for c in by_member} == {
        c.pk
        for c in Contradiction.objects.filter(status="open")
        if {t["id"] for t in c.teachings} & experts
    }
    both = _all(api, teacher, f"teaching=rule:{rule.pk}&member=expert")["results"]
    assert {c["id"] for c in both} == {
        c["id"]
        for c in by_teaching["results"]
        if any(t["author"] == "expert" for t in c["teachings"])
    }
    severities = sorted({c.severity for c in Contradiction.objects.all()})
    middle = severities[len(severities) // 2]
    strong = _all(api, teacher, f"min_severity={middle}")["results"]
    assert strong and all(c["severity"] >= middle for c in strong)
    assert len(strong) < _all(api, teacher, "")["count"] or len(severities) == 1
    for kind in ("rule_overlap", "rule_exception"):
        assert all(c["kind"] == kind for c in _all(api, teacher, f"kind={kind}")["results"])
    assert _all(api, teacher, "status=resolved")["count"] == 0
    assert _all(api, teacher, "status=all")["count"] == Contradiction.objects.count()


def test_has_thread(api, space, teacher, disputed):
    Contradiction.objects.update(thread=None)
    thread = thread_create(
        space=space,
        user=teacher,
        title="Two of them",
        teachings=[{"type": "rule", "id": disputed[0].pk}, {"type": "rule", "id": disputed[1].pk}],
    )
    threaded = set(thread.contradictions.values_list("pk", flat=True))
    assert threaded
    with_thread = _all(api, teacher, "has_thread=true")
    without = _all(api, teacher, "has_thread=false")
    assert {c["id"] for c in with_thread["results"]} == threaded
    assert with_thread["count"] + without["count"] == _all(api, teacher, "")["count"]
    assert all(c["thread"] is None for c in without["results"])


@pytest.mark.parametrize(
    "query, field",
    [
        ("status=maybe", "status"),
        ("kind=overlap", "kind"),
        ("teaching=rule", "teaching"),
        ("teaching=lesson:3", "teaching"),
        ("member=nobody", "member"),
        ("min_severity=high", "min_severity"),
        ("min_severity=2", "min_severity"),
        ("has_thread=yes", "has_thread"),
    ],
)
def test_bad_filters_are_400_naming_the_parameter(api, teacher, disputed, query, field):
    response = api(teacher).get(f"{S}/contradictions?{query}")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == field


def test_grouped_by_teaching(api, teacher, disputed):
    groups = api(teacher).get(f"{S}/contradictions/by-teaching?page_size=500").json()
    assert groups["count"] == len(groups["results"]) > 0
    for group in groups["results"]:
        kind, _, pk = group["teaching"].partition(":")
        rows = [
            c
            for c in Contradiction.objects.filter(status="open")
            if {"type": kind, "id": int(pk)} in c.teachings
        ]
        assert group["count"] == len(rows)
        assert group["max_severity"] == max(c.severity for c in rows)
    tops = [g["max_severity"] for g in groups["results"]]
    assert tops == sorted(tops, reverse=True)
