from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BackofficeConfig(AppConfig):
    """The staff side: admin registrations, case work, audit, retention, staff and roles.

    The admin site itself is `admin_apps.PortalAdminConfig` (listed first in
    INSTALLED_APPS); Django's admin autodiscovery loads the `admin` package.
    """

    name = "backoffice"
    verbose_name = _("Verwaltung")
    default_auto_field = "django.db.models.BigAutoField"
