"""The web pages. Namespaced ``frontend:`` so their names never clash with the API's."""

from __future__ import annotations

from django.urls import include, path, register_converter

from frontend.views import (
    accounts,
    admin,
    cases,
    community,
    disputes,
    evaluation,
    examples,
    feedback,
    inbox,
    members,
    playground,
    resolve,
    review,
    rules,
    spaces,
    teach,
)


class KindConverter:
    regex = "concept|rule|example"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(KindConverter, "kind")

app_name = "frontend"

space_urls = [
    path("", spaces.dashboard, name="dashboard"),
    path("join/", spaces.join, name="join"),
    path("status/", spaces.model_status, name="model-status"),
    path("teach/", teach.teach, name="teach"),
    path("teach/check/", teach.check, name="check"),
    path("teach/preview/", teach.preview, name="preview"),
    path("rules/new/", teach.rule_create, name="rule-create"),
    path("concepts/new/", teach.concept_create, name="concept-create"),
    path("t/<kind:kind>/<int:teaching_id>/", teach.teaching_detail, name="teaching"),
    path(
        "t/<kind:kind>/<int:teaching_id>/disputes/",
        feedback.teaching_disputes,
        name="teaching-disputes",
    ),
    path("t/<kind:kind>/<int:teaching_id>/retire/", teach.teaching_retire, name="teaching-retire"),
    path("t/<kind:kind>/<int:teaching_id>/revert/", teach.teaching_revert, name="teaching-revert"),
    path("rules/", rules.rule_list, name="rules"),
    path("examples/", examples.example_list, name="examples"),
    path("examples/new/", examples.example_create, name="example-create"),
    path("playground/", playground.playground, name="playground"),
    path("cases/", cases.case_list, name="cases"),
    path("cases/coverage/", cases.coverage_table, name="coverage"),
    path("practice/", cases.practice, name="practice"),
    path("practice/next/", cases.practice_next, name="practice-next"),
    path("practice/<int:case_id>/answer/", cases.practice_submit, name="practice-answer"),
    path("practice/<int:case_id>/after/", cases.practice_after, name="practice-after"),
    path("playground/predict/", playground.playground_predict, name="predict"),
    path("members/", members.member_list, name="members"),
    path("members/<str:username>/", members.member_profile, name="member"),
    path("members/<str:username>/update/", members.member_update, name="member-update"),
    path("members/<str:username>/rollback/", members.member_rollback, name="member-rollback"),
    path("review/", review.review_queue, name="review"),
    path("review/decide/", review.review_bulk, name="review-bulk"),
    path("review/<kind:kind>/<int:teaching_id>/", review.review_decide, name="review-decide"),
    path("keys/", admin.api_keys, name="keys"),
    path("keys/<str:prefix>/revoke/", admin.api_key_revoke_view, name="key-revoke"),
    path("settings/", admin.space_settings, name="settings"),
    # The community and consensus pages (views/community.py).
    path("contradictions/", disputes.contradictions, name="contradictions"),
    path("threads/", community.threads, name="threads"),
    path("threads/<int:thread_id>/", community.thread, name="thread"),
    path(
        "threads/<int:thread_id>/resolve/preview/",
        resolve.resolve_preview,
        name="resolve-preview",
    ),
    path("contributors/", community.contributors, name="contributors"),
    path("evaluation/", evaluation.evaluation, name="evaluation"),
    path("evaluation/<int:case_id>/label/", evaluation.evaluation_label, name="evaluation-label"),
    path("audit/", community.audit, name="audit"),
]

urlpatterns = [
    path("", spaces.home, name="home"),
    path("signup/", accounts.signup, name="signup"),
    path("login/", accounts.login_view, name="login"),
    path("logout/", accounts.logout_view, name="logout"),
    path("notifications/", inbox.notifications, name="notifications"),
    path("notifications/settings/", inbox.notification_settings, name="notification-settings"),
    path(
        "notifications/<int:notification_id>/open/",
        inbox.notification_open,
        name="notification-open",
    ),
    path("spaces/<slug:slug>/", include(space_urls)),
]
