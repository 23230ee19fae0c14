"""Give each pytest-xdist process its own Redis database.

Loaded with `-p` (pyproject's addopts) so it runs before pytest-django reads the
settings. Celery's queues, the cache (rate limits) and the tests' FLUSHDB calls
all live in the Redis database of REDIS_URL: two processes sharing one would
take each other's tasks and wipe each other's queues. Each process already has
its own PostgreSQL test database (pytest-django appends the worker id).
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit, urlunsplit

REDIS_DATABASES = 16  # Redis's default `databases` setting


def _per_process_redis_url(url: str, worker: str) -> str:
    parts = urlsplit(url)
    base = int(parts.path.strip("/") or 0)
    database = (base + int(worker.removeprefix("gw"))) % REDIS_DATABASES
    return urlunsplit(parts._replace(path=f"/{database}"))


_worker = os.environ.get("PYTEST_XDIST_WORKER", "")
if _worker.startswith("gw") and os.environ.get("REDIS_URL"):
    os.environ["REDIS_URL"] = _per_process_redis_url(os.environ["REDIS_URL"], _worker)
