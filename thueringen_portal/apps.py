from django.apps import AppConfig


class PortalConfig(AppConfig):
    """Wiring only: project-wide commands (bootstrap, service checks), no domain logic."""

    name = "thueringen_portal"
    verbose_name = "Thüringen-Portal"
