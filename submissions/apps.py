from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

from . import log_context


class SubmissionsConfig(AppConfig):
    name = "submissions"
    verbose_name = _("Anträge")

    def ready(self) -> None:
        # The admin of submissions and deliveries is the back office's (`backoffice.admin`).
        log_context.connect_task_signals()
