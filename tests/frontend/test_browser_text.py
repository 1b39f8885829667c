"""In a real headless Chromium: a teacher writes a phrase rule on a space of comments, sees
the words it matches highlighted in the examples its preview lists, and saves it."""

from __future__ import annotations

from tests.frontend.browser_kit import BROWSER, log_in, shot

pytestmark = [*BROWSER]


def test_a_text_rule_preview_highlights_the_words_it_matched(
    transactional_db,
    live_server,
    page,
    owner,
    teacher,
):
    from teaching.models import Rule
    from teaching.services.examples import examples_create
    from teaching.services.spaces import member_join, member_update, space_create

    space = space_create(
        user=owner,
        slug="tube",
        name="Tube comments",
        features=[{"name": "comment", "kind": "text"}],
        labels=[{"name": "spam"}, {"name": "ham"}],
    )
    member_join(space=space, user=teacher)
    member_update(space=space, user=owner, username="teacher", role="teacher", expertise="expert")
    examples_create(
        space=space,
        user=owner,
        items=[
            {"features": {"comment": "Please CHECK out my channel"}, "label": "spam"},
            {"features": {"comment": "a checkout is not a check out? it is"}, "label": "ham"},
            {"features": {"comment": "lovely song"}, "label": "ham"},
        ],
        batch=False,
    )

    log_in(page, live_server, "teacher")
    page.goto(f"{live_server.url}/spaces/tube/teach/")
    page.get_by_label("When", exact=True).fill('comment contains "check out"')
    page.locator("#condition-check .check.ok").wait_for()
    page.get_by_label("Then cue").select_option("spam")
    page.get_by_role("button", name="Preview").click()
    marks = page.locator("#rule-preview mark.matched")
    marks.first.wait_for()
    assert sorted(marks.all_inner_texts()) == ["CHECK out", "check out"]
    assert "checkout" in page.locator("#rule-preview").inner_text()  # shown, not marked
    shot(page, "teach-text-rule-preview")
    page.get_by_role("button", name="Save rule").click()
    page.locator(".message.success").wait_for()
    assert Rule.objects.filter(space=space, condition='comment contains "check out"').exists()
    assert page.errors == []
