"""Fail the whole run at once, with a clear message, when a required service is missing."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
import redis
from django.conf import settings
from django.db import connection


def pytest_sessionstart(session: pytest.Session) -> None:
    problems = []
    if connection.vendor != "postgresql":
        problems.append(
            f"the database is {connection.vendor}, the tests need PostgreSQL: run `make test` "
            "or set DATABASE_URL=postgres://..."
        )
    else:
        db = settings.DATABASES["default"]
        try:
            # Outside pytest-django's database blocker: a plain connection to the server.
            psycopg.connect(
                host=db["HOST"] or "127.0.0.1",
                port=db["PORT"] or 5432,
                user=db["USER"] or None,
                password=db["PASSWORD"] or None,
                dbname="postgres",
                connect_timeout=3,
            ).close()
        except psycopg.Error as exc:
            problems.append(f"PostgreSQL is not reachable ({exc}); start it or set DATABASE_URL")
    if not settings.REDIS_URL:
        problems.append("REDIS_URL is not set: run `make test` or set REDIS_URL=redis://...")
    else:
        try:
            redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2).ping()
        except redis.RedisError as exc:
            problems.append(f"Redis is not reachable at {settings.REDIS_URL} ({exc})")
    problems.extend(_static_files_problems())
    if problems:
        pytest.exit("Missing services: " + "; ".join(problems), returncode=3)


@pytest.fixture
def redis_client() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL)


def _static_files_problems() -> list[str]:
    """Hashed static files need a collected STATIC_ROOT (`make test` collects it)."""
    if "Manifest" not in settings.STORAGES["staticfiles"]["BACKEND"]:
        return []
    manifest = Path(settings.STATIC_ROOT) / "staticfiles.json"
    if manifest.exists():
        return []
    return [
        f"no collected static files at {settings.STATIC_ROOT}: run `make test` "
        "(it runs collectstatic) or `manage.py collectstatic`"
    ]
