"""Suite-wide fixtures. The suite runs against real services only (see `make test`)."""

from __future__ import annotations

import os

import pytest
from django.apps import apps as django_apps
from django.conf import settings
from django.contrib.auth.models import Group
from django.utils import translation

from backoffice.roles import ROLE_GROUPS, ensure_roles

# Playwright's sync API runs an event loop in the test thread; Django refuses
# ORM calls from such a thread unless told that this is intended (tests only).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytest_plugins = [
    "tests.support.services",
    "tests.support.worker",
    "tests.support.browser",
    "tests.support.smtp",
    "tests.support.s3",
]


@pytest.fixture(autouse=True)
def _default_language():
    """Every test starts in the portal's default language, whatever ran before it in
    this process (a request or a test may leave English active in the thread)."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _roles_after_flush(request):
    """Transactional tests end with a flush of every table, which also removes the
    groups the data migration created (production never flushes). Put them back, so
    a test's outcome does not depend on which tests ran before it in its process."""
    names = set(request.fixturenames)
    if not (request.node.get_closest_marker("django_db") or names & {"db", "transactional_db"}):
        return
    request.getfixturevalue("transactional_db" if "transactional_db" in names else "db")
    if Group.objects.filter(name__in=ROLE_GROUPS.values()).count() < len(ROLE_GROUPS):
        ensure_roles(apps=django_apps)


@pytest.fixture(autouse=True)
def _mail_through_smtp(settings, smtp_server):
    """E-mail goes through a real SMTP server, as in production, not Django's in-memory outbox."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = smtp_server.host
    settings.EMAIL_PORT = smtp_server.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    return smtp_server


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    """Each test writes files into its own private folder."""
    media = tmp_path / "media"
    media.mkdir()
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(media), "base_url": None},
        },
    }
    return media


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """A skipped test is a failed run: nothing may pass by not running."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if skipped and exitstatus == 0:
        reporter.write_line(f"{len(skipped)} test(s) were skipped; skipping is not allowed here.")
        session.exitstatus = 1
