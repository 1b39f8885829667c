"""In a real headless Chromium: a teacher saves a rule on the teach page; once the version it
produced is trained, the dashboard charts the scorecard on the agreed cases over versions
(each point opens the teaching behind it) and tells the teacher what the rule changed."""

from __future__ import annotations

import re

from tests.frontend.browser_kit import BROWSER, log_in, shot

pytestmark = [*BROWSER]


def test_the_scorecard_chart_and_what_my_rule_changed(
    transactional_db,
    live_server,
    page,
    space,
    owner,
    teacher,
    expert,
):
    from evaluation.services.cases import case_label, case_propose
    from teaching.models import Rule
    from teaching.services.rules import rule_create
    from teaching.services.training import train_space
    from tests.factories import row

    rule_create(space=space, user=teacher, condition="toss_height_cm > 90", label="toss in front")
    for features, label in [
        (row(toss_height_cm=100), "toss in front"),
        (row(toss_height_cm=40, elbow_angle=70), "high elbow"),
        (row(toss_height_cm=40, elbow_angle=75), "high elbow"),
    ]:
        case = case_propose(space=space, user=owner, features=features, label=label)
        case_label(case=case, user=expert, label=label)
    train_space(space_id=space.pk)

    log_in(page, live_server, "teacher")
    page.goto(f"{live_server.url}/spaces/serve/teach/")
    page.get_by_label("When", exact=True).fill("elbow_angle < 90")
    page.locator("#condition-check .check.ok").wait_for()
    page.get_by_label("Then cue").select_option("high elbow")
    page.get_by_role("button", name="Save rule").click()
    page.locator(".message.success").wait_for()
    rule = Rule.objects.get(space=space, condition="elbow_angle < 90")
    train_space(space_id=space.pk)  # what the worker does after the write

    page.goto(f"{live_server.url}/spaces/serve/")
    chart = page.locator("#scorecard-chart")
    chart.wait_for()
    assert chart.locator("circle.point").count() == 2
    panel = page.locator("#what-changed")
    text = panel.inner_text()
    assert f"your rule #{rule.pk}" in text
    assert re.search(r"\b2\s+agreed cases now right", text), text
    shot(page, "dashboard-scorecard-and-what-changed")
    chart.locator("a.point-link").last.click()
    page.wait_for_url(re.compile(rf"/t/rule/{rule.pk}/$"))
    page.goto(f"{live_server.url}/spaces/serve/evaluation/")
    page.locator("#agreement-heading").wait_for()
    shot(page, "evaluation-page")
    assert page.errors == []
