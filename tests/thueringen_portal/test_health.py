"""/healthz in the production configuration: database and hashed static files."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection

from tests.support import worker as worker_support
from thueringen_portal import health

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


MANIFEST_STORAGE = "whitenoise.storage.CompressedManifestStaticFilesStorage"


@pytest.fixture
def manifest_static(settings, tmp_path):
    """Manifest static files (as in production) into an empty static root of this test."""
    root = tmp_path / "staticfiles"
    root.mkdir()
    settings.STATIC_ROOT = root
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {"BACKEND": MANIFEST_STORAGE}}
    return root


@pytest.mark.django_db
def test_healthz_is_503_with_reason_when_collectstatic_was_not_run(client, manifest_static):
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert "static files missing" in body["reason"]
    assert "kern/kern.min.css" in body["reason"] and "portal/portal.css" in body["reason"]


@pytest.mark.django_db
def test_healthz_recovers_after_collectstatic(client, manifest_static):
    assert client.get("/healthz").status_code == 503
    call_command("collectstatic", interactive=False, verbosity=0)
    response = client.get("/healthz")
    assert response.status_code == 200, response.content
    assert response.json() == {"status": "ok"}
    # Cached per process: the second check does not look at the files again.
    assert (str(manifest_static), MANIFEST_STORAGE) in health._static_ok_for


@pytest.mark.django_db
def test_healthz_is_503_when_a_key_stylesheet_was_deleted_after_collectstatic(
    client, manifest_static
):
    call_command("collectstatic", interactive=False, verbosity=0)
    hashed = next((manifest_static / "portal").glob("portal.*.css"))
    hashed.unlink()
    response = client.get("/healthz")
    assert response.status_code == 503
    assert "portal/portal.css" in response.json()["reason"]
    assert "kern/kern.min.css" not in response.json()["reason"]


@pytest.mark.django_db(transaction=True)
def test_healthz_is_503_not_500_when_the_database_does_not_answer(client):
    port = connection.settings_dict["PORT"]
    connection.close()
    connection.settings_dict["PORT"] = str(free_port())  # nothing listens there
    try:
        response = client.get("/healthz")
    finally:
        connection.close()
        connection.settings_dict["PORT"] = port
    assert response.status_code == 503
    assert response.json()["reason"] == "database unreachable: OperationalError"


def get_status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=20) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.mark.django_db(transaction=True)
def test_gunicorn_with_manifest_static_files_is_unhealthy_until_collectstatic_and_reload(
    tmp_path,
):
    """As deployed: a web process started without static files is taken out of rotation."""
    static_root = tmp_path / "static"
    port = free_port()
    env = worker_support.worker_env(
        {"PORTAL_MANIFEST_STATIC": "true", "PORTAL_STATIC_ROOT": str(static_root)}
    )
    log = (tmp_path / "gunicorn.log").open("wb")
    server = subprocess.Popen(
        [
            *(sys.executable, "-m", "gunicorn", "thueringen_portal.wsgi"),
            *("--workers", "1", "--bind", f"127.0.0.1:{port}", "--no-control-socket"),
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/healthz"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                status = get_status(url)
                break
            except OSError:
                assert server.poll() is None, (tmp_path / "gunicorn.log").read_text()[-3000:]
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.3)
        assert status == 503
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
            cwd=ROOT,
            env=env,
            check=True,
            timeout=300,
        )
        # This worker read the (missing) manifest once: it stays out of rotation ...
        assert get_status(url) == 503
        # ... until the graceful restart a deployment does (systemctl reload: SIGHUP).
        server.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 60
        while get_status(url) != 200:
            assert time.monotonic() < deadline, (tmp_path / "gunicorn.log").read_text()[-3000:]
            time.sleep(0.5)
    finally:
        server.terminate()
        server.wait(20)
        log.close()
