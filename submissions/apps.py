from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from . import log_context


class SubmissionsConfig(AppConfig):
    name = "submissions"
    verbose_name = _("Anträge")

    def ready(self) -> None:
        # The pipeline's admin (deliveries, "retry now") lives in its own module
        # beside the back office's admin.py.
        from . import admin_pipeline  # noqa: F401

        log_context.connect_task_signals()
