from django.urls import path

from teaching.api import concepts, examples, model, rules, spaces, teachings

urlpatterns = [
    path("spaces", spaces.SpaceListApi.as_view(), name="space-list"),
    path("spaces/<slug:slug>", spaces.SpaceDetailApi.as_view(), name="space-detail"),
    path("spaces/<slug:slug>/members", spaces.MemberListApi.as_view(), name="member-list"),
    path(
        "spaces/<slug:slug>/members/<str:username>",
        spaces.MemberDetailApi.as_view(),
        name="member-detail",
    ),
    path(
        "spaces/<slug:slug>/members/<str:username>/rollback",
        teachings.MemberRollbackApi.as_view(),
        name="member-rollback",
    ),
    path("spaces/<slug:slug>/keys", spaces.KeyListApi.as_view(), name="key-list"),
    path("spaces/<slug:slug>/keys/<str:prefix>", spaces.KeyDetailApi.as_view(), name="key-detail"),
]

urlpatterns += [
    path("spaces/<slug:slug>/concepts", concepts.ConceptListApi.as_view(), name="concept-list"),
    path(
        "spaces/<slug:slug>/concepts/<int:teaching_id>",
        concepts.ConceptDetailApi.as_view(),
        name="concept-detail",
    ),
    path(
        "spaces/<slug:slug>/concepts/<int:teaching_id>/endorse",
        concepts.ConceptEndorseApi.as_view(),
        name="concept-endorse",
    ),
    path(
        "spaces/<slug:slug>/concepts/<int:teaching_id>/reject",
        concepts.ConceptRejectApi.as_view(),
        name="concept-reject",
    ),
    path(
        "spaces/<slug:slug>/concepts/<int:teaching_id>/history",
        concepts.ConceptHistoryApi.as_view(),
        name="concept-history",
    ),
    path(
        "spaces/<slug:slug>/concepts/<int:teaching_id>/revert",
        concepts.ConceptRevertApi.as_view(),
        name="concept-revert",
    ),
    path("spaces/<slug:slug>/rules", rules.RuleListApi.as_view(), name="rule-list"),
    path(
        "spaces/<slug:slug>/rules/<int:teaching_id>",
        rules.RuleDetailApi.as_view(),
        name="rule-detail",
    ),
    path(
        "spaces/<slug:slug>/rules/<int:teaching_id>/endorse",
        rules.RuleEndorseApi.as_view(),
        name="rule-endorse",
    ),
    path(
        "spaces/<slug:slug>/rules/<int:teaching_id>/reject",
        rules.RuleRejectApi.as_view(),
        name="rule-reject",
    ),
    path(
        "spaces/<slug:slug>/rules/<int:teaching_id>/history",
        rules.RuleHistoryApi.as_view(),
        name="rule-history",
    ),
    path(
        "spaces/<slug:slug>/rules/<int:teaching_id>/revert",
        rules.RuleRevertApi.as_view(),
        name="rule-revert",
    ),
    path("spaces/<slug:slug>/examples", examples.ExampleListApi.as_view(), name="example-list"),
    path(
        "spaces/<slug:slug>/examples/<int:teaching_id>",
        examples.ExampleDetailApi.as_view(),
        name="example-detail",
    ),
    path(
        "spaces/<slug:slug>/examples/<int:teaching_id>/endorse",
        examples.ExampleEndorseApi.as_view(),
        name="example-endorse",
    ),
    path(
        "spaces/<slug:slug>/examples/<int:teaching_id>/reject",
        examples.ExampleRejectApi.as_view(),
        name="example-reject",
    ),
    path(
        "spaces/<slug:slug>/examples/<int:teaching_id>/history",
        examples.ExampleHistoryApi.as_view(),
        name="example-history",
    ),
    path(
        "spaces/<slug:slug>/examples/<int:teaching_id>/revert",
        examples.ExampleRevertApi.as_view(),
        name="example-revert",
    ),
]

urlpatterns += [
    path("spaces/<slug:slug>/model", model.ModelApi.as_view(), name="model"),
    path(
        "spaces/<slug:slug>/model/versions", model.VersionListApi.as_view(), name="model-versions"
    ),
    path(
        "spaces/<slug:slug>/model/versions/<int:version>",
        model.VersionDetailApi.as_view(),
        name="model-version",
    ),
    path("spaces/<slug:slug>/predict", model.PredictApi.as_view(), name="predict"),
]
