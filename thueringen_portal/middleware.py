"""Request id and request latency: the two middlewares that wrap every request.

Both are deliberately small (a context variable, one clock read, one histogram
observation), because they run for every page and every static file.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable

from django.conf import settings
from django.core.signals import request_finished
from django.http import HttpRequest, HttpResponse
from django_prometheus.conf import PROMETHEUS_LATENCY_BUCKETS
from prometheus_client import Histogram

from submissions import log_context

# What a proxy's request id looks like (nginx's $request_id: 32 hex digits; UUIDs).
# Anything else is replaced, so a client cannot put arbitrary text into the logs.
REQUEST_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._\-]{7,63}")
RESPONSE_HEADER = "X-Request-ID"


def request_id_from(request: HttpRequest) -> str:
    """The trusted proxy's request id if configured and well-formed, else a new one."""
    header = getattr(settings, "PORTAL_REQUEST_ID_HEADER", "")
    if header:
        value = request.headers.get(header, "")
        if REQUEST_ID_PATTERN.fullmatch(value):
            return value
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """Give each request an id: in the log context and on the response (``X-Request-ID``)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        value = request_id_from(request)
        request.request_id = value
        # Not reset on the way out: Django logs 4xx responses after the middleware
        # chain returned. Cleared when the response is closed (request_finished).
        log_context.request_id.set(value)
        response = self.get_response(request)
        response[RESPONSE_HEADER] = value
        return response


def _forget_request_id(**_kwargs) -> None:
    log_context.request_id.set(None)


request_finished.connect(_forget_request_id, dispatch_uid="portal-forget-request-id")


# Same name and labels as django-prometheus's middleware, so its dashboards work;
# observed once per request instead of its dozen series, with bounded labels.
REQUEST_LATENCY = Histogram(
    "django_http_requests_latency_seconds_by_view_method",
    "Histogram of request processing time labelled by view.",
    ["view", "method"],
    buckets=PROMETHEUS_LATENCY_BUCKETS,
)
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class RequestMetricsMiddleware:
    """Observe each request's latency by view name and method."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        try:
            return self.get_response(request)
        finally:
            match = getattr(request, "resolver_match", None)
            # Unresolved requests (404s, static files) share one label: URLs a client
            # makes up must not create new series.
            view = (match.view_name if match is not None else None) or "<unresolved>"
            method = request.method if request.method in KNOWN_METHODS else "other"
            REQUEST_LATENCY.labels(view=view, method=method).observe(time.perf_counter() - started)
