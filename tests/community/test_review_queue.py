"""The review queue: order, filters, pages, the contradictions a proposal would bring in,
example values, bulk endorse / reject with a reason (one decision per item), permissions."""

from __future__ import annotations

import pytest
from django.test import Client

from community.models import Notification
from teaching.models import Rule
from tests.factories import SPACE_API as S
from tests.factories import SPACE_PAGES as P

pytestmark = pytest.mark.django_db


def _proposal(space, novice, threshold: int, label: str = "no cue"):
    from teaching.services.rules import rule_create

    rule, _ = rule_create(
        space=space, user=novice, condition=f"elbow_angle > {threshold}", label=label
    )
    assert rule.status == "proposed"
    return rule


@pytest.fixture
def queue(space, novice, expert):
    """Three of the novice's proposed rules and an example; the newest rule clashes with
    two of the expert's rules, severities 0.4 and 0.9."""
    from consensus.models import Contradiction
    from teaching.services.examples import example_create
    from teaching.services.rules import rule_create

    rules = [_proposal(space, novice, 100 + i, label) for i, label in
             enumerate(["no cue", "high elbow", "no cue"])]  # fmt: skip
    example, _ = example_create(
        space=space,
        user=novice,
        features={"toss_height_cm": 91, "elbow_angle": 150, "serve_type": "jump", "fatigued": True},
        label="high elbow",
    )
    for threshold, severity in ((110, 0.4), (120, 0.9)):
        theirs, _ = rule_create(
            space=space, user=expert, condition=f"elbow_angle > {threshold}", label="high elbow"
        )
        Contradiction.objects.create(
            space=space,
            key=f"rule_overlap:{rules[2].pk}:{theirs.pk}",
            kind="rule_overlap",
            teachings=[{"type": "rule", "id": rules[2].pk}, {"type": "rule", "id": theirs.pk}],
            severity=severity,
        )
    return rules, example, theirs


def test_oldest_first_or_most_severe_first(api, queue, expert):
    rules, example, theirs = queue
    oldest = api(expert).get(f"{S}/review").json()
    assert [(r["type"], r["id"]) for r in oldest["results"]] == [
        *(("rule", r.pk) for r in rules),
        ("example", example.pk),
    ]
    severe = api(expert).get(f"{S}/review?order=severe").json()["results"]
    assert severe[0]["id"] == rules[2].pk
    assert severe[0]["contradictions"]["count"] == 2
    top = severe[0]["contradictions"]["most_severe"]
    assert top["severity"] == 0.9 and top["other"] == {
        "type": "rule", "id": theirs.pk, "author": "expert"
    }  # fmt: skip
    assert severe[1]["contradictions"] == {"count": 0, "max_severity": 0.0, "most_severe": None}


@pytest.mark.parametrize(
    "query, expected",
    [("kind=example", 1), ("label=no+cue", 2), ("author=novice", 4), ("author=expert", 0)],
)
def test_the_queue_filters(api, queue, expert, query, expected):
    assert api(expert).get(f"{S}/review?{query}").json()["count"] == expected


@pytest.mark.parametrize(
    "query, field", [("order=newest", "order"), ("kind=x", "kind"), ("author=nobody", "author"),
                     ("label=nope", "label")]
)  # fmt: skip
def test_a_bad_filter_is_a_400_naming_it(api, queue, expert, query, field):
    response = api(expert).get(f"{S}/review?{query}")
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == field


def test_the_queue_pages(api, queue, expert):
    body = api(expert).get(f"{S}/review?page_size=3").json()
    assert body["count"] == 4 and len(body["results"]) == 3 and body["next"]


def test_bulk_endorse_decides_each_item_alone(api, queue, expert, moderator, novice):
    rules, example, _ = queue
    api(moderator).post(f"{S}/rules/{rules[0].pk}/reject", {}, format="json")
    items = [{"type": "rule", "id": r.pk} for r in rules] + [{"type": "example", "id": example.pk}]
    response = api(expert).post(
        f"{S}/review/decide", {"decision": "endorse", "note": "Checked.", "items": items},
        format="json",
    )  # fmt: skip
    body = response.json()
    assert response.status_code == 200 and body["decided"] == 3 and body["failed"] == 1
    assert body["results"][0]["error"]["code"] == "not_proposed"  # already rejected
    assert {Rule.objects.get(pk=r.pk).status for r in rules[1:]} == {"active"}
    told = Notification.objects.get(user=novice, kind="review")  # one item for all four
    assert told.count == 4 and "(1 rejected, 3 endorsed)" in told.message


def test_bulk_reject_needs_a_reason_and_writes_nothing_without(api, queue, expert):
    rules, _, _ = queue
    items = [{"type": "rule", "id": r.pk} for r in rules]
    response = api(expert).post(
        f"{S}/review/decide", {"decision": "reject", "note": " ", "items": items}, format="json"
    )
    assert response.status_code == 400 and response.json()["errors"][0]["field"] == "note"
    assert {Rule.objects.get(pk=r.pk).status for r in rules} == {"proposed"}


@pytest.mark.parametrize("body", [{"decision": "endorse", "items": []}, {"decision": "maybe"}])
def test_a_bad_bulk_request_is_a_400(api, queue, expert, body):
    response = api(expert).post(f"{S}/review/decide", body, format="json")
    assert response.status_code == 400


def test_only_trusted_members_review_and_403_comes_first(api, queue, teacher, novice):
    for user in (teacher, novice):
        assert api(user).get(f"{S}/review").status_code == 403
        bad = api(user).post(f"{S}/review/decide", {"decision": "maybe"}, format="json")
        assert bad.status_code == 403


def test_the_page_shows_values_contradictions_and_decides_in_bulk(queue, expert):
    rules, _, theirs = queue
    client = Client()
    client.force_login(expert)
    page = client.get(f"{P}/review/?order=severe").content.decode()
    assert "4 proposals waiting" in page
    assert "<code>toss_height_cm = 91</code>" in page and "<code>fatigued = yes</code>" in page
    assert "would contradict 2" in page and f"rule #{theirs.pk}</a> by expert" in page
    assert page.index(f'data-ref="rule:{rules[2].pk}"') < page.index(
        f'data-ref="rule:{rules[0].pk}"'
    )
    assert "1 proposal waiting" in client.get(f"{P}/review/?kind=example").content.decode()
    client.post(
        f"{P}/review/decide/",
        {"decision": "reject", "note": "Too broad.", "items": [f"rule:{rules[0].pk}", f"rule:{rules[1].pk}"]},
    )  # fmt: skip
    assert {Rule.objects.get(pk=r.pk).status for r in rules[:2]} == {"rejected"}
    after = client.get(f"{P}/review/", follow=True).content.decode()
    assert "2 proposals waiting" in after
