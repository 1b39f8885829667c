"""Training reads the space's case pool (teaching asks through ``pool_sample_wanted``, cases
answers): imported cases reach the next retrain, answered cases and other spaces' cases do
not, and the pool shows a rule wrong where no example tested it."""

import pytest

from cases.models import Case
from teaching.models import Space
from teaching.services.snapshots import space_snapshot
from teaching.services.training import train_space
from tests.factories import SPACE_API as S
from tests.factories import SPACE_FEATURES, SPACE_LABELS, row

pytestmark = pytest.mark.django_db

LOW, FRONT = "no cue", "toss in front"


def _rule_reliability(client, rule_id: int) -> float:
    metrics = client.get(f"{S}/model").json()["metrics"]
    return next(r["reliability"] for r in metrics["rules"] if r["id"] == rule_id)


def test_imported_cases_reach_the_retrain_and_correct_an_untested_rule(api, space, owner, expert):
    from teaching.services.spaces import space_create

    client = api(expert)
    # The truth: no cue below 75 cm, toss in front from 75. The third rule is wrong on
    # [75, 120), where no example was taught.
    for condition, label in (
        ("toss_height_cm < 75", LOW),
        ("toss_height_cm >= 75", FRONT),
        ("toss_height_cm < 120", LOW),
    ):
        written = client.post(f"{S}/rules", {"condition": condition, "label": label}, format="json")
    bad = written.json()["id"]
    for height, label in ((10, LOW), (30, LOW), (50, LOW), (130, FRONT), (145, FRONT)):
        features = row(toss_height_cm=float(height))
        client.post(f"{S}/examples", {"features": features, "label": label}, format="json")
    train_space(space_id=space.pk)
    before = _rule_reliability(client, bad)
    assert client.get(f"{S}/model").json()["metrics"]["pool"]["cases"] == 0

    cases = [row(toss_height_cm=h / 2 + 0.25) for h in range(0, 299)]
    imported = client.post(f"{S}/cases", {"cases": cases}, format="json")
    assert imported.status_code == 201, imported.json()
    space_create(
        user=owner, slug="other", name="Other", features=SPACE_FEATURES, labels=SPACE_LABELS
    )
    other = api(owner).post("/api/v1/spaces/other/cases", {"cases": [row()] * 50}, format="json")
    assert other.status_code == 201
    # An answered case is an example now: the pool it gives training leaves it out.
    answered = Case.objects.filter(space=space).order_by("id").first()
    written = client.post(f"{S}/practice/{answered.pk}", {"label": LOW}, format="json")
    assert written.status_code == 201, written.json()

    assert len(space_snapshot(Space.objects.get(pk=space.pk)).pool) == len(cases) - 1
    train_space(space_id=space.pk)
    model = client.get(f"{S}/model").json()
    assert model["teaching_revision"] == written.json()["teaching_revision"]
    assert model["metrics"]["pool"]["cases"] == len(cases) - 1
    assert _rule_reliability(client, bad) < before - 0.1
    answer = client.post(
        f"{S}/predict", {"instances": [row(toss_height_cm=100.0)]}, format="json"
    ).json()
    assert answer["predictions"][0]["label"] == FRONT
