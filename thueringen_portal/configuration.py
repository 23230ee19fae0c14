"""What this installation is configured to use, in words, for the bootstrap banner.

Read from the effective settings (not from which variables happen to be set),
and never including a password or a key.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings


def _redis_location(url: str) -> str:
    """``host:port/db`` of a Redis URL, without user or password."""
    parts = urlsplit(url)
    host = parts.hostname or "localhost"
    port = parts.port or 6379
    db = parts.path.strip("/") or "0"
    scheme = "TLS " if parts.scheme == "rediss" else ""
    return f"{scheme}{host}:{port}/{db}"


def configuration_summary() -> list[tuple[str, str, bool]]:
    """(topic, description, embedded default?) for database, tasks, cache, files, e-mail, static."""
    lines: list[tuple[str, str, bool]] = []
    db = settings.DATABASES["default"]
    engine = db["ENGINE"].rsplit(".", 1)[-1]
    if engine == "sqlite3":
        lines.append(("database", f"SQLite file {db['NAME']}", True))
    else:
        name = {"postgresql": "PostgreSQL"}.get(engine, engine)
        host = db.get("HOST") or "local socket"
        port = f":{db['PORT']}" if db.get("PORT") else ""
        lines.append(("database", f"{name} at {host}{port}, database {db['NAME']}", False))

    if settings.CELERY_TASK_ALWAYS_EAGER:
        lines.append(("tasks", "run in-process (no broker, no Celery worker)", True))
    else:
        broker = _redis_location(settings.CELERY_BROKER_URL)
        lines.append(("tasks", f"Celery with the Redis broker at {broker}", False))

    cache = settings.CACHES["default"]
    if cache["BACKEND"].endswith("RedisCache"):
        lines.append(("cache", f"Redis at {_redis_location(str(cache['LOCATION']))}", False))
    else:
        lines.append(("cache", "local memory of each process", True))

    storage = settings.STORAGES["default"]
    options = storage.get("OPTIONS", {})
    if storage["BACKEND"].endswith("S3Storage"):
        endpoint = options.get("endpoint_url") or "AWS default endpoint"
        lines.append(("files", f"S3 bucket {options.get('bucket_name')} at {endpoint}", False))
    else:
        location = options.get("location") or settings.PRIVATE_MEDIA_ROOT
        lines.append(("files", f"private folder {location}", True))

    if settings.EMAIL_BACKEND.endswith("smtp.EmailBackend"):
        tls = " (STARTTLS)" if settings.EMAIL_USE_TLS else ""
        lines.append(("e-mail", f"SMTP {settings.EMAIL_HOST}:{settings.EMAIL_PORT}{tls}", False))
    elif settings.EMAIL_BACKEND.endswith("console.EmailBackend"):
        lines.append(("e-mail", "printed on this console", True))
    else:
        lines.append(("e-mail", settings.EMAIL_BACKEND.rsplit(".", 1)[-1], False))

    static_backend = settings.STORAGES["staticfiles"]["BACKEND"]
    if "Manifest" in static_backend:
        lines.append(
            ("static files", f"hashed names from the manifest in {settings.STATIC_ROOT}", False)
        )
    else:
        lines.append(("static files", "plain names (development or test)", True))
    return lines
