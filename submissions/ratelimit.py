"""Per-IP rate limits for the endpoints a script could hammer (submit, resume, status lookup)."""

from __future__ import annotations

from django.core.cache import cache
from django.http import HttpRequest

from .client_address import client_address_resolve

# scope → (requests, window in seconds). Generous for people, tight for scripts.
LIMITS: dict[str, tuple[int, int]] = {
    "submit": (10, 600),
    "resume": (20, 600),
    "status": (10, 600),
    "feedback": (5, 600),
    "upload": (60, 600),
    "start": (30, 600),
    # "Save and continue later" e-mails: per client, and per draft (any address).
    "save_mail": (10, 3600),
    "save_mail_draft": (3, 3600),
}


def rate_limit_hit(*, request: HttpRequest, scope: str) -> bool:
    """Count one request of this client address in the scope; True when it is over the limit."""
    limit, window = LIMITS[scope]
    # Requests whose address cannot be read share one bucket rather than none.
    client = client_address_resolve(request=request) or "unknown"
    key = f"ratelimit:{scope}:{client}"
    # add() starts the window only when the key is new; incr() is atomic in Redis.
    if cache.add(key, 1, timeout=window):
        return False
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=window)
        return False
    return count > limit


def rate_limit_hit_key(*, scope: str, key: str) -> bool:
    """Count one request for `key` (e.g. a draft id) in the scope; True when over the limit."""
    limit, window = LIMITS[scope]
    cache_key = f"ratelimit:{scope}:key:{key}"
    if cache.add(cache_key, 1, timeout=window):
        return False
    try:
        count = cache.incr(cache_key)
    except ValueError:  # expired between add and incr
        cache.add(cache_key, 1, timeout=window)
        return False
    return count > limit
