"""/metrics: protected by a bearer token, figures from PostgreSQL and Redis at scrape time."""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.core.cache import cache
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from submissions import tasks
from submissions.models import Delivery
from submissions.pipeline import (
    Step,
    pipeline_deliver,
    pipeline_prepare_deliveries,
    pipeline_render_pdfs,
    pipeline_resolve_office,
)
from submissions.services import submission_submit
from tests.factories import SubmissionFactory
from tests.submissions.conftest import make_answers, make_draft
from tests.support import worker as worker_support
from thueringen_portal.metrics import FIGURES_CACHE_KEY

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "metrics-token-" + secrets.token_urlsafe(16)


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """{(sample name, sorted labels): value} of a Prometheus text page."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def scrape(client) -> dict:
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"].startswith("text/plain")
    return samples(response.content.decode())


@pytest.fixture
def metrics_token(settings):
    settings.PORTAL_METRICS_TOKEN = TOKEN
    # Figures computed on every scrape, so each scrape shows what the test just did.
    settings.PORTAL_METRICS_FIGURES_SECONDS = 0
    return TOKEN


@pytest.mark.django_db
def test_figures_are_computed_once_per_interval_for_all_web_processes(
    client, metrics_token, settings
):
    settings.PORTAL_METRICS_FIGURES_SECONDS = 60
    cache.delete(FIGURES_CACHE_KEY)
    SubmissionFactory(form_version__service__slug="gewerbe-anmeldung")
    key = ("portal_submissions", (("service", "gewerbe-anmeldung"),))
    assert scrape(client)[key] == 1
    SubmissionFactory(form_version__service__slug="gewerbe-anmeldung")
    # Within the interval every process serves the figures in the shared cache.
    assert scrape(client)[key] == 1
    cache.delete(FIGURES_CACHE_KEY)
    assert scrape(client)[key] == 2


@pytest.mark.django_db
def test_metrics_do_not_exist_while_no_token_is_configured(client, settings):
    settings.PORTAL_METRICS_TOKEN = ""
    response = client.get("/metrics", headers={"Authorization": "Bearer "})
    assert response.status_code == 404
    assert b"portal_" not in response.content


@pytest.mark.django_db
@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        f"Basic {TOKEN}",
        f"Bearer {TOKEN[:-1]}",
        f"Bearer {TOKEN}x",
        f"Bearer {TOKEN.upper()}",
        "Bearer \x00" + TOKEN,
        "Bearer " + "A" * 10_000,
    ],
    # Stable ids: the token is random, and parallel test processes must collect alike.
    ids=[
        "none",
        "empty",
        "bearer-only",
        "bearer-space",
        "basic-scheme",
        "one-char-short",
        "one-char-long",
        "upper-case",
        "nul-prefix",
        "huge",
    ],
)
def test_metrics_without_the_right_token_are_401(client, metrics_token, authorization):
    headers = {} if authorization is None else {"Authorization": authorization}
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert b"portal_" not in response.content


@pytest.mark.django_db(transaction=True)
def test_scrape_shows_submissions_steps_deliveries_and_queue_depths(
    client, metrics_token, office_setup, clean_broker
):
    before = scrape(client)
    assert before[("portal_database_up", ())] == 1
    assert before[("portal_broker_up", ())] == 1

    # One submission through the pipeline in this process, up to its inbox delivery
    # (made by the PDF step; a second attempt finds it delivered).
    submission, _secret = submission_submit(
        draft=make_draft(office_setup), answers=make_answers(), language="de"
    )
    assert pipeline_resolve_office(submission_id=submission.pk) is Step.DONE
    assert pipeline_render_pdfs(submission_id=submission.pk) is Step.DONE
    assert pipeline_prepare_deliveries(submission_id=submission.pk) is Step.DONE
    inbox = Delivery.objects.get(submission=submission, channel=Delivery.Channel.INBOX)
    assert pipeline_deliver(delivery_id=inbox.pk) is Step.STOPPED
    # A webhook delivery that failed twice and waits for its third attempt.
    Delivery.objects.create(
        submission=submission, channel=Delivery.Channel.WEBHOOK, attempts=2, last_error="500"
    )
    # A submission of another service whose pipeline stopped at the office lookup.
    SubmissionFactory(pipeline_failed_at=timezone.now(), pipeline_error="no office")
    clean_broker.flushdb()
    for _ in range(3):
        tasks.render_pdfs.delay(0)
    tasks.notify_citizen.delay(0)

    figures = scrape(client)
    assert figures[("portal_submissions", (("service", "hundeanmeldung"),))] == 1
    assert figures[("portal_pipeline_steps_done", (("step", "resolve_office"),))] == 1
    assert figures[("portal_pipeline_steps_done", (("step", "render_pdfs"),))] == 1
    # The inbox (its only channel then) was delivered; the citizen was not notified here.
    assert figures[("portal_pipeline_steps_done", (("step", "deliver"),))] == 1
    assert figures[("portal_pipeline_steps_done", (("step", "notify_citizen"),))] == 0
    assert figures[("portal_pipeline_steps_failed", (("step", "resolve_office"),))] == 1
    assert figures[("portal_pipeline_steps_failed", (("step", "render_pdfs"),))] == 0
    assert figures[("portal_delivery_attempts", (("channel", "inbox"),))] == 1
    assert figures[("portal_delivery_attempt_failures", (("channel", "inbox"),))] == 0
    assert figures[("portal_delivery_attempts", (("channel", "webhook"),))] == 2
    assert figures[("portal_delivery_attempt_failures", (("channel", "webhook"),))] == 2
    assert figures[("portal_deliveries", (("channel", "inbox"), ("status", "delivered")))] == 1
    assert figures[("portal_deliveries", (("channel", "webhook"), ("status", "pending")))] == 1
    assert figures[("portal_queue_length", (("queue", "pdf"),))] == 3
    assert figures[("portal_queue_length", (("queue", "email"),))] == 1
    assert figures[("portal_queue_length", (("queue", "delivery"),))] == 0
    # No personal data in the figures.
    page = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).content
    assert b"Mustermann" not in page and b"erika@" not in page


@pytest.mark.django_db
def test_request_latency_is_recorded_by_view_with_bounded_labels(client, metrics_token):
    key = (
        "django_http_requests_latency_seconds_by_view_method_count",
        (("method", "GET"), ("view", "healthz")),
    )
    before = scrape(client).get(key, 0)
    client.get("/healthz")
    client.get("/healthz")
    # Made-up URLs and methods must not create new series.
    client.generic("X-HOSTILE-METHOD", "/gibt-es-nicht/<script>/%00")
    client.get(f"/{secrets.token_hex(8)}/")
    after = scrape(client)
    assert after[key] == before + 2
    views = {dict(labels).get("view") for name, labels in after if "by_view_method" in name}
    methods = {dict(labels).get("method") for name, labels in after if "by_view_method" in name}
    assert "<unresolved>" in views and "other" in methods
    assert not any("script" in (v or "") or "/" in (v or "") for v in views)
    assert "X-HOSTILE-METHOD" not in methods


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url: str, *, token: str | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, ""


@pytest.mark.django_db(transaction=True)
def test_gunicorn_workers_report_their_requests_together_in_multiprocess_mode(tmp_path):
    """With several gunicorn workers, one scrape sees the requests of all of them.

    Workers are recycled after three requests, so the eight requests are served
    by at least three processes; each process alone would report at most three.
    """
    metrics_dir = tmp_path / "prometheus"
    metrics_dir.mkdir()
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": worker_support.test_database_url(),
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        "PORTAL_METRICS_TOKEN": TOKEN,
        "PORTAL_LOG_FORMAT": "json",
    }
    log = (tmp_path / "gunicorn.log").open("wb")
    server = subprocess.Popen(
        [
            *(sys.executable, "-m", "gunicorn", "thueringen_portal.wsgi"),
            *("--workers", "2", "--bind", f"127.0.0.1:{port}", "--max-requests", "3"),
            *("--logger-class", "thueringen_portal.gunicorn_logging.PortalGunicornLogger"),
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if get(f"{base}/healthz")[0] == 200:
                    break
            except OSError:
                pass
            assert server.poll() is None, (tmp_path / "gunicorn.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "gunicorn did not start"
            time.sleep(0.3)
        for _ in range(7):
            assert get(f"{base}/healthz")[0] == 200
        status, text = get(f"{base}/metrics", token=TOKEN)
        assert status == 200
        figures = samples(text)
        key = (
            "django_http_requests_latency_seconds_by_view_method_count",
            (("method", "GET"), ("view", "healthz")),
        )
        assert figures[key] == 8
        assert figures[("portal_database_up", ())] == 1
        assert len(list(metrics_dir.glob("histogram_*.db"))) >= 3
    finally:
        server.terminate()
        server.wait(20)
        log.close()
    # gunicorn's own lines (booting, recycling workers) are JSON like the portal's.
    lines = (tmp_path / "gunicorn.log").read_text().splitlines()
    records = [json.loads(line) for line in lines if line.startswith("{")]
    assert any(
        r["logger"] == "gunicorn.error" and "Booting worker" in r["message"] for r in records
    )


@pytest.mark.django_db
def test_prometheus_can_scrape_over_the_internal_network_without_the_https_redirect(
    client, metrics_token, settings
):
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/").status_code == 301
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    # Without the token the exemption reveals nothing.
    assert client.get("/metrics").status_code == 401
