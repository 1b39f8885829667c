from django.urls import path

from evaluation import api

urlpatterns = [
    path(
        "spaces/<slug:slug>/evaluation-cases",
        api.EvaluationCaseListApi.as_view(),
        name="evaluation-cases",
    ),
    path(
        "evaluation-cases/<int:case_id>/labels",
        api.CaseLabelApi.as_view(),
        name="evaluation-case-labels",
    ),
    path("spaces/<slug:slug>/agreement", api.AgreementApi.as_view(), name="agreement"),
    path(
        "spaces/<slug:slug>/model/versions/<int:version>/changes",
        api.VersionChangesApi.as_view(),
        name="model-version-changes",
    ),
    path(
        "spaces/<slug:slug>/model/versions/<int:version>/publish",
        api.VersionPublishApi.as_view(),
        name="model-version-publish",
    ),
    path(
        "spaces/<slug:slug>/since-last-visit",
        api.SinceLastVisitApi.as_view(),
        name="since-last-visit",
    ),
]
