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
    # "Access code lost": per client, and per reference (each new code replaces
    # the old one, so a stranger knowing a reference must not keep doing that).
    "access_code": (5, 3600),
    "access_code_reference": (3, 86400),
}


def _over_limit(*, scope: str, bucket: str) -> bool:
    """Count one request in the scope's window for this bucket; True when over the limit."""
    limit, window = LIMITS[scope]
    key = f"ratelimit:{scope}:{bucket}"
    # add() starts the window only when the key is new; incr() is atomic in Redis.
    if cache.add(key, 1, timeout=window):
        return False
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=window)
        return False
    return count > limit


def rate_limit_hit(*, request: HttpRequest, scope: str) -> bool:
    """Count one request of this client address in the scope; True when it is over the limit."""
    # Requests whose address cannot be read share one bucket rather than none.
    return _over_limit(scope=scope, bucket=client_address_resolve(request=request) or "unknown")


def rate_limit_hit_key(*, scope: str, key: str) -> bool:
    """Count one request for `key` (e.g. a draft id) in the scope; True when over the limit."""
    return _over_limit(scope=scope, bucket=f"key:{key}")
