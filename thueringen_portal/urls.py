from django.contrib import admin
from django.urls import include, path
from django.views.generic import TemplateView

from . import metrics, views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("metrics", metrics.metrics_view, name="metrics"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("", TemplateView.as_view(template_name="portal/start.html"), name="start"),
    path("", include("citizen.urls")),
    path("", include("municipalities.urls")),
]

handler400 = "thueringen_portal.views.error_400"
handler403 = "thueringen_portal.views.error_403"
handler404 = "thueringen_portal.views.error_404"
handler500 = "thueringen_portal.views.error_500"
