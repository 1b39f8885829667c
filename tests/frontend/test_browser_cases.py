"""In a real Chromium with a real worker: a teacher imports cases from a CSV file on the
cases page, then answers three cases of the practice queue and sees the model's answer on
each change after its retrain."""

from __future__ import annotations

import pytest

from tests.frontend.browser_kit import BROWSER, log_in, shot

pytestmark = [*BROWSER, pytest.mark.worker]


def test_a_teacher_imports_cases_and_answers_three_queue_cases(
    celery_worker,
    transactional_db,
    live_server,
    page,
    space,
    teacher,
    tmp_path,
):
    from teaching import selectors
    from teaching.services.rules import rule_create
    from tests.worker import wait_for

    rule_create(space=space, user=teacher, condition="toss_height_cm > 90", label="toss in front")
    wait_for(lambda: selectors.model_status(space=space)["status"] == "ready", timeout=60)

    log_in(page, live_server, "teacher")
    page.goto(f"{live_server.url}/spaces/serve/cases/")
    lines = ["toss_height_cm,elbow_angle,serve_type,fatigued"] + [
        f"{h},{60 + 2 * h},float,false" for h in range(0, 60, 4)
    ]
    csv = tmp_path / "cases.csv"
    csv.write_text("\n".join(lines) + "\n")
    page.get_by_label("CSV file").set_input_files(str(csv))
    page.get_by_role("button", name="Import").click()
    page.locator("#import-status .ok-text").wait_for()
    assert "Imported 15 cases" in page.locator("#import-status").inner_text()
    page.wait_for_load_state("load")
    page.locator("#coverage-summary").wait_for()
    shot(page, "cases-page")

    page.goto(f"{live_server.url}/spaces/serve/practice/")
    seen = []
    for turn in range(3):
        case = page.locator(".practice-case")
        case.wait_for()
        case_id = case.get_attribute("data-case")
        assert case_id not in seen
        before = page.locator("#model-before").inner_text()
        answer = "high elbow" if before != "high elbow" else "no cue"
        page.get_by_label("Your answer").select_option(answer)
        page.get_by_role("button", name="Answer").click()
        assert page.locator("#answer-before").inner_text() == before
        after = page.locator("#answer-after")
        after.wait_for(timeout=60_000)
        assert after.inner_text() == answer != before, (turn, before, after.inner_text())
        shot(page, f"practice-answer-{turn + 1}")
        seen.append(case_id)
        page.get_by_role("button", name="Next case").click()
    assert page.errors == []
