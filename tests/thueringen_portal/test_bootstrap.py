"""The bootstrap banner names the services really in use, and never a password."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.db import connection

SECRETS = ["broker-pass-9x", "cache-pass-7y", "s3-secret-5z", "smtp-pass-3w"]


def banner(**options) -> str:
    out = io.StringIO()
    call_command("bootstrap", stdout=out, **options)
    text = out.getvalue()
    return text[text.index("Configuration in use:") :]


@pytest.mark.django_db
def test_banner_said_embedded_default_with_postgresql_redis_s3_and_smtp_configured(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = "redis://:broker-pass-9x@redis.internal:6380/3"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://default:cache-pass-7y@cache.internal:6379/4",
        }
    }
    settings.STORAGES = {
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": "portal-private",
                "endpoint_url": "https://objects.rz.thueringen.example",
                "access_key": "portal",
                "secret_key": "s3-secret-5z",
            },
        },
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "mail.rz.thueringen.example"
    settings.EMAIL_PORT = 587
    settings.EMAIL_USE_TLS = True
    settings.EMAIL_HOST_PASSWORD = "smtp-pass-3w"

    text = banner()
    db = connection.settings_dict
    assert f"database: PostgreSQL at {db['HOST'] or 'local socket'}" in text
    assert db["NAME"] in text
    assert "tasks: Celery with the Redis broker at redis.internal:6380/3" in text
    assert "cache: Redis at cache.internal:6379/4" in text
    assert "files: S3 bucket portal-private at https://objects.rz.thueringen.example" in text
    assert "e-mail: SMTP mail.rz.thueringen.example:587 (STARTTLS)" in text
    assert "static files: hashed names from the manifest in" in text
    assert "embedded default" not in text.lower()
    assert "To use PostgreSQL and Redis" not in text
    for secret in SECRETS:
        assert secret not in text
    if db.get("PASSWORD"):
        assert db["PASSWORD"] not in text


@pytest.mark.django_db
def test_banner_names_each_embedded_part_in_use(settings, _private_media):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }

    text = banner()
    # The database is still PostgreSQL: only what is embedded is called so.
    assert "database: PostgreSQL at" in text and "SQLite" not in text
    assert "tasks: run in-process (no broker, no Celery worker) (embedded default)" in text
    assert "cache: local memory of each process (embedded default)" in text
    assert f"files: private folder {_private_media} (embedded default)" in text
    assert "e-mail: printed on this console (embedded default)" in text
    assert "static files: plain names (development or test) (embedded default)" in text
    assert "To use PostgreSQL and Redis" in text
