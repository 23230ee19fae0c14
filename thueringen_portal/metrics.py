"""The operators' Prometheus endpoint: ``/metrics``, behind a bearer token.

Two kinds of figures: per-process request metrics (the latency histogram of
``thueringen_portal.middleware``, plus prometheus_client's process metrics),
and the portal's own figures, computed at scrape time from PostgreSQL and the
broker so every web process answers the same. With several gunicorn workers
set ``PROMETHEUS_MULTIPROC_DIR`` (an empty folder, emptied at each start): the
request metrics of all workers are then merged from that folder.
"""

from __future__ import annotations

import hmac
import logging
import os
from collections.abc import Iterator

import prometheus_client
from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError
from django.http import Http404, HttpRequest, HttpResponse
from prometheus_client import multiprocess
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from backoffice.operations_selectors import OperationsFigures, operations_figures
from submissions.pipeline import PIPELINE_QUEUES

from .celery import app as celery_app

logger = logging.getLogger(__name__)


def queue_lengths() -> dict[str, int] | None:
    """Messages waiting per Celery queue (Redis ``LLEN``), or None without a Redis broker."""
    if celery_app.conf.task_always_eager:
        return None
    with celery_app.connection_for_read() as connection:
        client = getattr(connection.default_channel, "client", None)
        if client is None:
            return None
        return {queue: int(client.llen(queue)) for queue in PIPELINE_QUEUES}


FIGURES_CACHE_KEY = "portal:metrics:figures"


def cached_operations_figures() -> OperationsFigures:
    """The figures, computed at most every PORTAL_METRICS_FIGURES_SECONDS across all processes.

    In the shared cache (Redis), so several web processes and several
    Prometheus servers do not each scan the tables; 0 computes on every scrape.
    """
    seconds = int(getattr(settings, "PORTAL_METRICS_FIGURES_SECONDS", 60))
    if seconds <= 0:
        return operations_figures()
    figures = cache.get(FIGURES_CACHE_KEY)
    if figures is None:
        figures = operations_figures()
        cache.set(FIGURES_CACHE_KEY, figures, seconds)
    return figures


class PortalCollector(Collector):
    """Queue depths, pipeline steps, deliveries and submissions, read at scrape time."""

    def collect(self) -> Iterator[Metric]:
        yield from self._queues()
        yield from self._figures()

    def _queues(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("portal_broker_up", "1 if the broker's queues could be read.")
        try:
            lengths = queue_lengths()
        except Exception:  # a scrape must answer even when the broker is down
            logger.warning("metrics: could not read the queue lengths", exc_info=True)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1 if lengths is not None else 0)
        yield up
        if lengths is None:
            return
        family = GaugeMetricFamily(
            "portal_queue_length", "Tasks waiting in a Celery queue.", labels=["queue"]
        )
        for queue, length in lengths.items():
            family.add_metric([queue], length)
        yield family

    def _figures(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("portal_database_up", "1 if the figures could be read.")
        try:
            figures = cached_operations_figures()
        except DatabaseError:
            logger.warning("metrics: could not read the figures", exc_info=True)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield _gauge(
            "portal_submissions",
            "Submissions filed, by service.",
            ["service"],
            figures.submissions_by_service,
        )
        yield _gauge(
            "portal_pipeline_steps_done",
            "Submissions that completed a pipeline step.",
            ["step"],
            figures.steps_done,
        )
        yield _gauge(
            "portal_pipeline_steps_failed",
            "Submissions whose pipeline stopped visibly at a step (waiting for staff).",
            ["step"],
            figures.steps_failed,
        )
        yield _gauge(
            "portal_delivery_attempts",
            "Delivery attempts made, by channel.",
            ["channel"],
            figures.delivery_attempts,
        )
        yield _gauge(
            "portal_delivery_attempt_failures",
            "Delivery attempts that did not deliver, by channel.",
            ["channel"],
            figures.delivery_failed_attempts,
        )
        yield _gauge(
            "portal_deliveries",
            "Deliveries by channel and status (pending, delivered, failed).",
            ["channel", "status"],
            {
                (key if isinstance(key, tuple) else (key,)): n
                for key, n in figures.deliveries.items()
            },
        )


def _gauge(name: str, documentation: str, labels: list[str], counts: dict) -> GaugeMetricFamily:
    """One gauge family from a mapping of label value(s) to count, in a stable order."""
    family = GaugeMetricFamily(name, documentation, labels=labels)
    for key, count in sorted(counts.items()):
        family.add_metric(list(key) if isinstance(key, tuple) else [key], count)
    return family


def metrics_registry() -> prometheus_client.CollectorRegistry:
    """This process's metrics (multiprocess mode: all workers'), plus the portal's figures."""
    registry = prometheus_client.CollectorRegistry(auto_describe=False)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(_ProcessRegistry())
    registry.register(PortalCollector())
    return registry


class _ProcessRegistry(Collector):
    """The default registry (this process's metrics) as one collector of another registry."""

    def collect(self) -> Iterator[Metric]:
        return prometheus_client.REGISTRY.collect()


def metrics_authorised(request: HttpRequest, *, token: str) -> bool:
    """Whether the request carries ``Authorization: Bearer <token>`` (constant-time compare)."""
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not given:
        return False
    return hmac.compare_digest(given.strip().encode(), token.encode())


def metrics_view(request: HttpRequest) -> HttpResponse:
    """``/metrics``: 404 while PORTAL_METRICS_TOKEN is unset, 401 without the right token."""
    token = getattr(settings, "PORTAL_METRICS_TOKEN", "")
    if not token:
        # Indistinguishable from a URL that does not exist.
        raise Http404
    if not metrics_authorised(request, token=token):
        response = HttpResponse(status=401)
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    body = prometheus_client.generate_latest(metrics_registry())
    response = HttpResponse(body, content_type=prometheus_client.CONTENT_TYPE_LATEST)
    response["Cache-Control"] = "no-store"
    return response
