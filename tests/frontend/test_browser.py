"""End to end in a real headless Chromium against a live server (and a real worker where a
model must train). Screenshots of the key pages go to artifacts/screenshots/."""

from __future__ import annotations

import json
import re
import urllib.request

import pytest

from tests.factories import row
from tests.frontend.browser_kit import BROWSER, log_in, new_page, reload_until, shot

pytestmark = [*BROWSER]
TABLET = {"width": 820, "height": 1180}


@pytest.mark.worker
def test_1_a_teacher_writes_a_rule_and_the_playground_follows(
    celery_worker, transactional_db, live_server, page, space, teacher
):
    """A teacher sees a live syntax error for a typo, fixes it, saves the rule, and the
    playground's prediction changes without a reload."""
    from teaching.services.examples import examples_create
    from tests.worker import wait_for

    examples_create(
        space=space,
        user=teacher,
        items=[
            {"features": row(toss_height_cm=float(t)), "label": "no cue"} for t in (30, 45, 60, 75)
        ]
        + [{"features": row(elbow_angle=float(a)), "label": "high elbow"} for a in (70, 80)],
    )
    from teaching import selectors

    wait_for(lambda: selectors.model_status(space=space)["status"] == "ready", timeout=60)

    log_in(page, live_server, "teacher")
    page.goto(f"{live_server.url}/spaces/serve/teach/")
    condition = page.get_by_label("When", exact=True)
    condition.press_sequentially("toss_heigth_cm > 100", delay=15)
    error = page.locator("#condition-check .check.bad")
    error.wait_for()
    assert "toss_heigth_cm" in error.inner_text()
    page.get_by_role("button", name="Use toss_height_cm").click()
    page.locator("#condition-check .check.ok").wait_for()
    assert condition.input_value() == "toss_height_cm > 100"
    page.get_by_label("Then cue").select_option("toss in front")
    shot(page, "teach-rule")
    page.get_by_role("button", name="Save rule").click()
    page.locator(".message.success").wait_for()

    page.goto(f"{live_server.url}/spaces/serve/playground/")
    page.evaluate("window.__sameDocument = true")
    label = page.locator("#predicted-label")
    label.wait_for()
    page.get_by_label("toss_height_cm").fill("120")
    page.wait_for_function(
        "document.getElementById('predicted-label')?.textContent === 'toss in front'",
        timeout=60_000,
    )
    assert page.evaluate("window.__sameDocument") is True  # no reload happened
    shot(page, "playground-after-rule")
    assert page.errors == []


def write_rule(page, live_server, condition: str, label: str) -> tuple[int, int]:
    """Write a rule in the Teach page's editor; returns its id and the revision it made."""
    page.goto(f"{live_server.url}/spaces/serve/teach/")
    page.get_by_label("When", exact=True).fill(condition)
    page.locator("#condition-check .check.ok").wait_for()
    page.get_by_label("Then cue").select_option(label)
    page.get_by_role("button", name="Save rule").click()
    saved = page.locator(".message.success")
    saved.wait_for()
    found = re.search(r"Rule #(\d+) saved at revision (\d+)", saved.inner_text())
    assert found, saved.inner_text()
    return int(found[1]), int(found[2])


def ask_playground(page, live_server, toss_height_cm: str, revision: int) -> dict:
    """The playground's answer for a toss height, from a model trained at ``revision`` or
    later (the prediction follows new model versions by itself)."""
    page.goto(f"{live_server.url}/spaces/serve/playground/")
    page.get_by_label("toss_height_cm").fill(toss_height_cm)
    page.wait_for_function(
        """([toss, revision]) => {
            const answer = document.querySelector('#prediction .answer');
            const input = document.querySelector('[name="f-toss_height_cm"]');
            const trained = answer?.textContent.match(/trained from revision (\\d+)/);
            return answer && input && input.value === toss && trained
                && Number(trained[1]) >= revision;
        }""",
        arg=[toss_height_cm, revision],
        timeout=40_000,
    )
    page.wait_for_timeout(400)  # let a request the typing started settle
    answer = page.locator("#prediction .answer")
    return {
        "label": page.locator("#predicted-label").inner_text(),
        "rules": answer.locator(".why > div:first-child li").all_inner_texts(),
        "no_cue": float(
            answer.locator(".bar-row", has_text="no cue")
            .locator(".bar-value")
            .inner_text()
            .strip(" %")
        ),
    }


@pytest.mark.worker
def test_2_contradicting_rules_open_a_thread_that_a_moderator_resolves(
    celery_worker, transactional_db, browser, live_server, space, teacher, expert, moderator
):
    """Two teachers write contradicting rules in the editor; the worker's consensus check
    lists the contradiction and opens a thread; the expert argues for their rule; a
    moderator resolves it (prefer: retire the teacher's rule) in the resolve form; the
    model retrains and the playground's answer inside the former overlap follows.

    Long: one story across three people's pages, each step on the state the last one left.
    """
    a_page, b_page, m_page = new_page(browser), new_page(browser), new_page(browser)
    try:
        space_url = f"{live_server.url}/spaces/serve"
        # (1) Teacher A: a high toss should be tossed further in front.
        log_in(a_page, live_server, "teacher")
        rule_a, _ = write_rule(a_page, live_server, "toss_height_cm > 60", "toss in front")

        # (2) Expert B: below 80 cm there is nothing to say — it overlaps A on (60, 80).
        log_in(b_page, live_server, "expert")
        rule_b, revision_b = write_rule(b_page, live_server, "toss_height_cm < 80", "no cue")
        assert rule_b != rule_a

        # (3) The worker's consensus check finds the overlap and opens a thread.
        reload_until(b_page, f"{space_url}/contradictions/", ".contradiction-list > li")
        listed = b_page.locator(".contradiction-list > li").first.inner_text()
        assert f"Rule #{rule_a}" in listed and f"Rule #{rule_b}" in listed, listed
        assert "toss_height_cm" in listed  # the witness is a concrete toss height
        reload_until(b_page, f"{space_url}/threads/", ".thread-list a")
        assert b_page.locator(".thread-list li").count() == 1
        b_page.locator(".thread-list a").first.click()
        b_page.wait_for_url(re.compile(r"/threads/\d+/$"))
        thread_url = b_page.url
        about = b_page.locator("section[aria-labelledby=disputes-heading]").inner_text()
        assert f"Rule #{rule_a} by teacher" in about and f"Rule #{rule_b} by expert" in about
        assert "Opened by the consensus check" in b_page.content()
        argument = "Under 80 cm the toss is fine for a flat serve; cueing it only confuses."
        b_page.get_by_label("Your post").fill(argument)
        b_page.get_by_label(f"Rule #{rule_b} by expert").check()
        b_page.get_by_role("button", name="Post").click()
        b_page.locator(".message.success").wait_for()
        post = b_page.locator("article.post")
        assert post.count() == 1 and argument in post.inner_text()
        assert f"supports rule #{rule_b}" in post.inner_text()
        positions = b_page.locator("section[aria-labelledby=positions-heading]").inner_text()
        assert f"Rule #{rule_b}: 1 supporter" in positions, positions

        # (4) The moderator sees what the model says with both rules, then resolves.
        log_in(m_page, live_server, "moderator")
        before = ask_playground(m_page, live_server, "70", revision_b)
        shot(m_page, "playground-before-resolution")
        assert before["label"] in ("toss in front", "no cue")
        fired = {r.split()[1]: r for r in before["rules"]}  # "#12" → its line
        assert set(fired) == {f"#{rule_a}", f"#{rule_b}"}, before["rules"]
        m_page.goto(thread_url)
        assert m_page.locator("#resolve-form").count() == 1
        shot(m_page, "thread-before-resolution")
        m_page.get_by_label("Prefer: keep some, retire the others").check()
        m_page.locator(f"#c-retire-rule-{rule_a}").check()
        m_page.locator(f"#c-keep-rule-{rule_b}").check()
        m_page.get_by_label("Why").fill("The expert's argument holds: no cue below 80 cm.")
        m_page.get_by_role("button", name="Resolve", exact=True).click()
        resolved = m_page.locator(".message.success")
        resolved.wait_for()
        found = re.search(r"teaching revision (\d+)", resolved.inner_text())
        assert found, resolved.inner_text()
        revision_resolved = int(found[1])
        assert revision_resolved > revision_b
        assert m_page.locator("h2 .tag.resolved").count() == 1
        assert m_page.locator("#resolve-form").count() == 0
        resolution = m_page.locator("section[aria-label='Resolution 1']").inner_text()
        assert "prefer" in resolution and f"Retired: rule #{rule_a}" in resolution
        assert "no cue below 80 cm" in resolution
        sides = m_page.locator("section[aria-labelledby=disputes-heading] .dispute-sides li")
        assert "retired" in sides.filter(has_text=f"Rule #{rule_a}").inner_text()
        shot(m_page, "thread-after-resolution")

        # The contradiction left the open queue.
        m_page.goto(f"{space_url}/contradictions/?status=resolved")
        assert f"Rule #{rule_a}" in m_page.locator(".contradiction-list").inner_text()
        m_page.goto(f"{space_url}/contradictions/")
        assert m_page.locator(".contradiction-list > li").count() == 0

        # (5) The retrained model: inside the former overlap only B's rule speaks.
        after = ask_playground(m_page, live_server, "70", revision_resolved)
        shot(m_page, "playground-after-resolution")
        assert after["label"] == "no cue", after
        assert not any(f"Rule #{rule_a}" in r for r in after["rules"]), after["rules"]
        assert len(after["rules"]) == 1 and f"Rule #{rule_b}" in after["rules"][0], after
        assert after["no_cue"] > before["no_cue"], (before, after)
        status = m_page.locator("#model-status")
        assert status.get_attribute("data-status") == "ready"
        assert f"revision {revision_resolved}" in status.inner_text()

        # A, whose rule was retired, may appeal.
        a_page.goto(thread_url)
        assert a_page.locator("#appeal-form").count() == 1
        for p in (a_page, b_page, m_page):
            assert p.errors == []
    finally:
        for p in (a_page, b_page, m_page):
            p.context.close()


def test_3_an_owner_creates_an_api_key_that_a_client_uses(
    transactional_db, live_server, page, space, owner
):
    log_in(page, live_server, "owner")
    page.goto(f"{live_server.url}/spaces/serve/keys/")
    page.get_by_label("Client name").fill("coaching app")
    page.get_by_role("button", name="Create key").click()
    key = page.get_by_label("New API key").input_value()
    shot(page, "api-key-created")
    assert len(key) > 20

    request = urllib.request.Request(
        f"{live_server.url}/api/v1/spaces/serve/model", headers={"Authorization": f"Api-Key {key}"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        body = json.load(response)
    assert response.status == 200
    assert body["status"] in ("untrained", "training", "ready")
    assert body["latest_teaching_revision"] == space.teaching_revision

    page.reload()
    assert key not in page.content()  # shown once


KEY_PAGES = [
    "",
    "teach/",
    "examples/",
    "playground/",
    "members/",
    "members/teacher/",
    "review/",
    "keys/",
    "settings/",
    "contradictions/",
    "threads/{thread}/",
]


def test_key_pages_render_in_a_browser(
    transactional_db, live_server, page, space, owner, teacher, novice
):
    """Every key page loads with htmx, shows the live model status, and raises no script
    error; screenshots at desktop and tablet widths."""
    from teaching.services import concepts, examples, rules

    concepts.concept_create(
        space=space, user=teacher, name="high_toss", definition="toss_height_cm > 90"
    )
    rule, _ = rules.rule_create(
        space=space,
        user=teacher,
        condition="high_toss",
        label="toss in front",
        rationale="Too high is too late.",
    )
    rules.rule_create(space=space, user=novice, condition="fatigued", label="no cue")
    examples.examples_create(
        space=space,
        user=teacher,
        items=[
            {"features": row(toss_height_cm=100.0), "label": "toss in front"},
            {"features": row(elbow_angle=75.0), "label": "high elbow", "note": "dropped elbow"},
        ],
    )
    from community.services.threads import thread_create

    thread = thread_create(
        space=space, user=teacher, title="Which cue?", teachings=[{"type": "rule", "id": rule.pk}]
    )
    log_in(page, live_server, "owner")
    for path in (p.format(thread=thread.pk) for p in KEY_PAGES):
        response = page.goto(f"{live_server.url}/spaces/serve/{path}")
        assert response is not None and response.status == 200, path
        assert page.evaluate("typeof window.htmx") == "object", path
        page.locator("#model-status").wait_for()
        name = "dashboard" if not path else path.strip("/").replace("/", "-")
        shot(page, name)
    page.set_viewport_size(TABLET)
    for path in ("", "teach/", "playground/"):
        response = page.goto(f"{live_server.url}/spaces/serve/{path}")
        assert response is not None and response.status == 200, path
        page.locator("#model-status").wait_for()
        shot(page, f"tablet-{path.strip('/') or 'dashboard'}")
    assert page.errors == []


def test_the_editor_is_usable_from_the_keyboard(
    transactional_db, live_server, page, space, teacher
):
    log_in(page, live_server, "teacher")
    page.goto(f"{live_server.url}/spaces/serve/teach/")
    page.get_by_label("When", exact=True).focus()
    page.keyboard.type('fatigued and serve_type == "jmup"')
    page.locator("#condition-check .check.bad").wait_for()
    shot(page, "teach-typo")
    page.keyboard.press("Tab")  # the next stop is the "Use jump" button
    assert page.evaluate("document.activeElement.dataset.fixWith") == '"jump"'
    page.keyboard.press("Enter")
    page.locator("#condition-check .check.ok").wait_for()
    assert (
        page.get_by_label("When", exact=True).input_value() == 'fatigued and serve_type == "jump"'
    )
