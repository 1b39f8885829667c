from django.urls import path

from cases import api

urlpatterns = [
    path("spaces/<slug:slug>/cases", api.CaseListApi.as_view(), name="case-list"),
    path("spaces/<slug:slug>/cases/<int:case_id>", api.CaseDetailApi.as_view(), name="case-detail"),
    path("spaces/<slug:slug>/coverage", api.CoverageApi.as_view(), name="coverage"),
    path("spaces/<slug:slug>/practice", api.PracticeApi.as_view(), name="practice"),
    path(
        "spaces/<slug:slug>/practice/<int:case_id>",
        api.PracticeAnswerApi.as_view(),
        name="practice-answer",
    ),
]
