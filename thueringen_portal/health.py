"""Health checks behind ``/healthz``: the database answers, and the static files are there.

A web process whose hashed static files are missing (``collectstatic`` not run,
or a volume not mounted) renders every page without styles or fails outright
on ``{% static %}``; a load balancer must take it out of rotation.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.staticfiles.storage import ManifestFilesMixin, staticfiles_storage
from django.db import DatabaseError, connection

# The stylesheets without which the portal and its PDFs are unusable.
KEY_STATIC_ASSETS: tuple[str, ...] = (
    "kern/kern.min.css",
    "kern/fonts/fira-sans.css",
    "portal/portal.css",
    "submissions/pdf.css",
)

# Per process: once the manifest of a static root was found complete, it stays so
# (the storage reads its manifest once per process); failures are re-checked.
_static_ok_for: set[tuple[str, str]] = set()


def health_database_problem() -> str | None:
    """None if the database answers ``SELECT 1``, else a short reason."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as exc:
        return f"database unreachable: {type(exc).__name__}"
    return None


def health_static_problem() -> str | None:
    """None if the key static assets can be served, else a short reason.

    Checked in manifest mode only (production): each key asset must be in the
    manifest this process loaded and its hashed file must exist. Without the
    manifest storage, files are looked up by name and nothing is cached here.
    """
    if not isinstance(staticfiles_storage, ManifestFilesMixin):
        return None
    key = (str(settings.STATIC_ROOT), settings.STORAGES["staticfiles"]["BACKEND"])
    if key in _static_ok_for:
        return None
    missing = []
    for name in KEY_STATIC_ASSETS:
        try:
            stored = staticfiles_storage.stored_name(name)
        except ValueError:
            missing.append(name)
            continue
        if not staticfiles_storage.exists(stored):
            missing.append(name)
    if missing:
        return "static files missing (run collectstatic): " + ", ".join(missing)
    _static_ok_for.add(key)
    return None
