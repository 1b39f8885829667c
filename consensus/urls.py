from django.urls import path

from consensus import api

urlpatterns = [
    path(
        "spaces/<slug:slug>/contradictions",
        api.ContradictionListApi.as_view(),
        name="contradiction-list",
    ),
    path(
        "spaces/<slug:slug>/contradictions/by-teaching",
        api.ContradictionByTeachingApi.as_view(),
        name="contradiction-by-teaching",
    ),
    path("spaces/<slug:slug>/rules/preview", api.RulePreviewApi.as_view(), name="rule-preview"),
]
