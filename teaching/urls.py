from django.urls import path

from teaching.api import spaces, teachings

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

_SUFFIXES = {
    "list": "",
    "detail": "/<int:teaching_id>",
    "endorse": "/<int:teaching_id>/endorse",
    "reject": "/<int:teaching_id>/reject",
    "history": "/<int:teaching_id>/history",
    "revert": "/<int:teaching_id>/revert",
}
for _kind in ("concept", "rule", "example"):
    for _name, _view in teachings.views_for(_kind).items():
        urlpatterns.append(
            path(
                f"spaces/<slug:slug>/{_kind}s{_SUFFIXES[_name]}",
                _view.as_view(),
                name=f"{_kind}-{_name}",
            )
        )

from teaching.api import model  # noqa: E402

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
