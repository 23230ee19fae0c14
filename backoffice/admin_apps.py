"""Admin app configuration, kept out of apps.py so SubmissionsConfig stays the default."""

from django.contrib.admin.apps import AdminConfig


class PortalAdminConfig(AdminConfig):
    """Makes the back office's admin site (two-factor login, overview pages) the default site."""

    default_site = "backoffice.admin_site.PortalAdminSite"
