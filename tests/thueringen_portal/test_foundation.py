"""The foundation: real services, a real worker process, safe production settings."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.templatetags.static import static

from tests.support.worker import wait_until
from thueringen_portal.models import WorkerHeartbeat
from thueringen_portal.tasks import record_heartbeat

ROOT = Path(__file__).resolve().parents[2]


def test_suite_runs_on_postgresql_and_a_redis_broker():
    assert connection.vendor == "postgresql"
    assert settings.CELERY_BROKER_URL.startswith("redis://")
    assert settings.CELERY_TASK_ALWAYS_EAGER is False


@pytest.mark.worker
def test_task_runs_in_a_separate_worker_process_and_writes_to_postgresql(celery_worker):
    token = uuid.uuid4().hex
    record_heartbeat.delay(token)

    wait_until(
        lambda: WorkerHeartbeat.objects.filter(token=token).exists(),
        message=f"the worker did not record the heartbeat:\n{celery_worker.log()}",
    )
    beat = WorkerHeartbeat.objects.get(token=token)
    assert beat.pid != os.getpid()
    # The task ran in a pool child of the worker process we started.
    status = Path(f"/proc/{beat.pid}/status").read_text()
    parent = int(next(line.split()[1] for line in status.splitlines() if line.startswith("PPid")))
    assert parent == celery_worker.pid


@pytest.mark.django_db
def test_healthz_answers_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_unknown_page_shows_a_german_error_page_without_internals(client):
    response = client.get("/gibt-es-nicht/<script>alert(1)</script>")
    assert response.status_code == 404
    body = response.content.decode()
    assert "Seite nicht gefunden" in body
    assert "Traceback" not in body
    assert "<script>alert(1)</script>" not in body


@pytest.mark.django_db
def test_start_page_uses_kern_ux_from_the_npm_package(client):
    response = client.get("/")
    assert response.status_code == 200
    assert static("kern/kern.min.css").encode() in response.content
    assert (ROOT / "node_modules/@kern-ux/native/dist/kern.min.css").exists()


def production_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PORTAL_"))}
    env.update(
        DJANGO_SECRET_KEY="x" * 20 + uuid.uuid4().hex + uuid.uuid4().hex,
        DJANGO_ALLOWED_HOSTS="portal.thueringen.example",
        DJANGO_BEHIND_PROXY="true",
        PORTAL_TRUSTED_PROXIES="10.0.0.0/24",
    )
    return env


def test_deploy_check_warns_behind_a_proxy_without_trusted_proxies():
    # Every citizen would share the proxy's rate limit and axes lockout.
    env = production_env()
    del env["PORTAL_TRUSTED_PROXIES"]
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0 and "portal.W011" in result.stderr + result.stdout


def test_deploy_check_passes_under_the_documented_production_configuration():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=production_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_refuses_to_start_without_a_secret_key():
    env = production_env()
    del env["DJANGO_SECRET_KEY"]
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is not set" in result.stderr
