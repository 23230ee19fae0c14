from django.apps import AppConfig
from django.conf import settings
from django.core.cache import caches
from django.core.signals import setting_changed


def _forget_page_fragments(*, setting: str, **_kwargs) -> None:
    """The "pages" cache holds rendered chrome (static URLs, links): a changed setting
    (tests override STATIC_URL, storages, languages) must not see an old rendering.

    A change of CACHES itself replaces the cache handlers (Django's own receiver), and
    a CACHES without "pages" has nothing to forget.
    """
    if setting == "CACHES" or "pages" not in settings.CACHES:
        return
    caches["pages"].clear()


class PortalConfig(AppConfig):
    """Wiring only: project-wide commands (bootstrap, service checks), no domain logic."""

    name = "thueringen_portal"
    verbose_name = "Thüringen-Portal"

    def ready(self) -> None:
        setting_changed.connect(_forget_page_fragments, dispatch_uid="portal-page-fragments")
