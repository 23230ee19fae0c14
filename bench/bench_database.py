"""A dedicated, kept benchmark database, and Django set up on it.

Benchmarks that need many rows (the case list, /metrics) fill their own
database once (`<DATABASE name>_<suffix>`, never the test database) and keep
it for later runs; `rebuild=True` starts over. Call `bench_django_setup`
before importing anything that needs Django.
"""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]


def bench_django_setup(*, suffix: str, rebuild: bool, env: dict[str, str] | None = None) -> str:
    """Point DATABASE_URL at the kept benchmark database, create it if needed, set Django up.

    Returns the database's name. `env` sets further variables for this benchmark.
    """
    sys.path.insert(0, str(ROOT))
    base_url = os.environ.get(
        "DATABASE_URL", "postgres://postgres@127.0.0.1:5432/thueringen_portal"
    )
    parts = urlsplit(base_url)
    bench_db = f"{parts.path.lstrip('/') or 'portal'}_{suffix}"
    os.environ["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{bench_db}"))
    for name, value in {
        "DJANGO_SETTINGS_MODULE": "thueringen_portal.settings",
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": "bench-only-secret-key-that-is-long-enough-for-checks",
        "DJANGO_ALLOWED_HOSTS": "testserver",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DJANGO_SECURE_COOKIES": "false",
        "PORTAL_MANIFEST_STATIC": "false",
    }.items():
        os.environ.setdefault(name, value)
    os.environ.update(env or {})

    import psycopg

    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [bench_db]).fetchone()
        if exists and rebuild:
            conn.execute(f'DROP DATABASE "{bench_db}" WITH (FORCE)')
            exists = None
        if not exists:
            conn.execute(f'CREATE DATABASE "{bench_db}"')

    import django

    warnings.filterwarnings("ignore", message="No directory at")
    django.setup()
    return bench_db
