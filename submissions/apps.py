from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SubmissionsConfig(AppConfig):
    name = "submissions"
    verbose_name = _("Anträge")

    def ready(self) -> None:
        # The pipeline's admin (deliveries, "retry now") lives in its own module
        # beside the back office's admin.py; client_address registers the deploy
        # check of the trusted-proxy setting.
        from . import admin_pipeline, client_address  # noqa: F401
