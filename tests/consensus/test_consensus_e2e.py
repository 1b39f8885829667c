"""Through the API and a real worker: a dispute appears, then closes when a rule narrows."""

import pytest

from tests.factories import SPACE_API as S
from tests.worker import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_two_teachers_disagree_then_one_narrows(api, celery_worker, space, teacher, expert):
    mine = (
        api(teacher)
        .post(
            f"{S}/rules",
            {"condition": "toss_height_cm > 60", "label": "toss in front"},
            format="json",
        )
        .json()
    )
    api(expert).post(
        f"{S}/rules", {"condition": "toss_height_cm <= 75", "label": "no cue"}, format="json"
    )

    def open_items():
        return api(teacher).get(f"{S}/contradictions?status=open").json()["results"]

    [found] = wait_for(open_items, timeout=30)
    assert found["kind"] == "rule_overlap" and found["thread"] is not None
    assert 60 < found["witness"]["toss_height_cm"] <= 75
    thread = api(teacher).get(f"/api/v1/threads/{found['thread']}")
    assert thread.status_code == 200, thread.content
    assert thread.json()["status"] == "open"
    assert [c["id"] for c in thread.json()["contradictions"]] == [found["id"]]

    api(teacher).patch(
        f"{S}/rules/{mine['id']}", {"condition": "toss_height_cm > 75"}, format="json"
    )
    wait_for(lambda: not open_items(), timeout=30)
    closed = api(teacher).get(f"{S}/contradictions?status=resolved").json()["results"]
    assert closed[0]["id"] == found["id"] and "by itself" in closed[0]["close_note"]
