"""GET /coverage: every active rule's coverage, overlaps and conflicts on the pool, equal to
counting case by case with the condition language; the rule preview's pool coverage."""

import random

import pytest

from mola.engine.language import compile_condition
from teaching.language import space_concepts
from teaching.models import Rule, RulePrecedence
from tests.factories import SPACE_API as S
from tests.factories import row

pytestmark = pytest.mark.django_db

CONDITIONS = [
    ("toss_height_cm > 90", "toss in front"),
    ("high_toss and fatigued", "no cue"),
    ('serve_type == "jump"', "high elbow"),
    ("elbow_angle between 80 and 100", "high elbow"),
    ("toss_height_cm > 120", "toss in front"),
    ("fatigued", "no cue"),
]


def _pool(seed: int, n: int) -> list[dict]:
    rng = random.Random(seed)
    return [
        row(
            toss_height_cm=float(rng.randint(0, 150)),
            elbow_angle=float(rng.randint(60, 180)),
            serve_type=rng.choice(["float", "jump", "underhand"]),
            fatigued=rng.random() < 0.3,
        )
        for _ in range(n)
    ]


def _brute_force(space, cases, rules):
    """Per rule (coverage, overlaps, conflicts) by evaluating every rule on every case."""
    concepts = space_concepts(space)
    fires = {
        r.pk: [
            bool(compile_condition(r.condition, space.schema, concepts).evaluate_rows([c])[0])
            for c in cases
        ]
        for r in rules
    }
    counts = {}
    for r in rules:
        coverage = overlaps = conflicts = 0
        for i in range(len(cases)):
            if not fires[r.pk][i]:
                continue
            others = [o for o in rules if o.pk != r.pk and fires[o.pk][i]]
            coverage += 1
            overlaps += bool(others)
            conflicts += any(o.label != r.label for o in others)
        counts[r.pk] = (coverage, overlaps, conflicts)
    uncovered = sum(not any(fires[r.pk][i] for r in rules) for i in range(len(cases)))
    return counts, uncovered


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_coverage_equals_counting_case_by_case(api, space, teacher, seed):
    client = api(teacher)
    client.post(
        f"{S}/concepts", {"name": "high_toss", "definition": "toss_height_cm > 60"}, format="json"
    )
    for condition, label in CONDITIONS:
        assert (
            client.post(
                f"{S}/rules", {"condition": condition, "label": label}, format="json"
            ).status_code
            == 201
        )
    cases = _pool(seed, 300)
    client.post(f"{S}/cases", {"cases": cases[:200]}, format="json")
    client.get(f"{S}/coverage")  # cached masks must follow the next import
    client.post(f"{S}/cases", {"cases": cases[200:]}, format="json")
    body = client.get(f"{S}/coverage").json()
    rules = list(Rule.objects.filter(space=space).order_by("id"))
    expected, uncovered = _brute_force(space, cases, rules)
    assert body["cases"] == 300
    assert body["counts"]["uncovered"] == uncovered
    assert body["uncovered"] == round(uncovered / 300, 4)
    for item in body["rules"]:
        c = item["counts"]
        assert (c["coverage"], c["overlaps"], c["conflicts"]) == expected[item["rule"]["id"]]
        assert item["coverage"] == round(c["coverage"] / 300, 4)
        assert len(item["sample"]) == min(5, c["coverage"])


def test_a_precedence_settles_the_conflicts_of_its_pair(api, space, teacher, owner):
    client = api(teacher)
    general = client.post(
        f"{S}/rules", {"condition": "toss_height_cm > 90", "label": "toss in front"}, format="json"
    ).json()
    exception = client.post(
        f"{S}/rules",
        {"condition": "toss_height_cm > 90 and fatigued", "label": "no cue"},
        format="json",
    ).json()
    client.post(
        f"{S}/cases",
        {"cases": [row(toss_height_cm=100.0, fatigued=True), row(toss_height_cm=100.0)]},
        format="json",
    )
    before = {r["rule"]["id"]: r["counts"] for r in client.get(f"{S}/coverage").json()["rules"]}
    assert before[general["id"]]["conflicts"] == 1 and before[exception["id"]]["conflicts"] == 1
    RulePrecedence.objects.create(
        space=space, winner_id=exception["id"], loser_id=general["id"], created_by=owner
    )
    space.teaching_revision += 1  # a precedence comes with a teaching revision
    space.save(update_fields=["teaching_revision"])
    after = client.get(f"{S}/coverage").json()
    counts = {r["rule"]["id"]: r["counts"] for r in after["rules"]}
    assert counts[general["id"]] == {"coverage": 2, "overlaps": 1, "conflicts": 0}
    assert counts[exception["id"]]["conflicts"] == 0
    assert after["counts"]["conflicting"] == 0


def test_coverage_follows_a_rule_edit_and_a_deleted_case(api, space, teacher):
    client = api(teacher)
    rule = client.post(
        f"{S}/rules", {"condition": "toss_height_cm > 90", "label": "toss in front"}, format="json"
    ).json()
    client.post(
        f"{S}/cases",
        {"cases": [row(toss_height_cm=float(h)) for h in (10, 95, 130)]},
        format="json",
    )
    assert client.get(f"{S}/coverage").json()["rules"][0]["counts"]["coverage"] == 2
    client.patch(f"{S}/rules/{rule['id']}", {"condition": "toss_height_cm > 5"}, format="json")
    body = client.get(f"{S}/coverage").json()
    assert body["rules"][0]["counts"]["coverage"] == 3 and body["uncovered"] == 0
    first = client.get(f"{S}/cases").json()["results"][0]["id"]
    client.delete(f"{S}/cases/{first}")
    assert client.get(f"{S}/coverage").json()["rules"][0]["counts"]["coverage"] == 2


def test_an_empty_pool_or_no_rules(api, teacher):
    body = api(teacher).get(f"{S}/coverage").json()
    assert body == {**body, "cases": 0, "uncovered": 0.0, "rules": []}


def test_the_rule_preview_shows_the_draft_on_the_pool(api, teacher):
    client = api(teacher)
    client.post(
        f"{S}/rules", {"condition": "toss_height_cm > 90", "label": "toss in front"}, format="json"
    )
    client.post(
        f"{S}/cases",
        {"cases": [row(toss_height_cm=float(h), fatigued=h > 50) for h in (10, 60, 95, 130)]},
        format="json",
    )
    body = client.post(
        f"{S}/rules/preview", {"condition": "fatigued", "label": "no cue"}, format="json"
    ).json()
    assert "covers" in body and "contradictions" in body  # the existing fields stay
    assert body["pool"]["counts"] == {
        "coverage": 3,
        "overlaps": 2,
        "conflicts": 2,
        "newly_covered": 1,
    }
    assert body["pool"]["coverage"] == 0.75 and len(body["pool"]["sample"]) == 3
