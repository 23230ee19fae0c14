from django.apps import AppConfig
from django.core.cache import caches
from django.core.signals import setting_changed


def _forget_page_fragments(**_kwargs) -> None:
    """The "pages" cache holds rendered chrome (static URLs, links): a changed setting
    (tests override STATIC_URL, storages, languages) must not see an old rendering."""
    caches["pages"].clear()


class PortalConfig(AppConfig):
    """Wiring only: project-wide commands (bootstrap, service checks), no domain logic."""

    name = "thueringen_portal"
    verbose_name = "Thüringen-Portal"

    def ready(self) -> None:
        setting_changed.connect(_forget_page_fragments, dispatch_uid="portal-page-fragments")
