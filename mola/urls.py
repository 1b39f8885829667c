from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from mola.health import healthz

api_v1 = [
    path("", include("community.urls")),
    path("", include("teaching.urls")),
    path("", include("consensus.urls")),
    path("", include("cases.urls")),
    path("", include("evaluation.urls")),
]

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("admin/", admin.site.urls),
    path("", include("frontend.urls")),
]

handler400 = "mola.api.errors.json_bad_request"
handler404 = "mola.api.errors.json_not_found"
handler500 = "mola.api.errors.json_server_error"
