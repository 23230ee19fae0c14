"""Missing services make the run fail at once with a message naming them."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_pytest_stops_at_once_when_redis_cannot_be_reached():
    env = dict(os.environ, REDIS_URL=f"redis://127.0.0.1:{unused_port()}/0")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "tests/thueringen_portal/test_foundation.py", "-q"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 3, result.stdout + result.stderr
    assert "Missing services" in result.stdout + result.stderr
    assert "Redis is not reachable" in result.stdout + result.stderr


def test_service_check_names_an_unreachable_database_and_how_to_get_it():
    env = dict(
        os.environ,
        DATABASE_URL=f"postgres://postgres@127.0.0.1:{unused_port()}/portal",
        PORTAL_NO_SERVICE_START="1",
    )
    result = subprocess.run(
        [sys.executable, "scripts/ensure_services.py"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "PostgreSQL cannot be reached" in result.stderr
    assert "apt-get install postgresql" in result.stderr


def test_browser_fixture_drives_the_system_chromium(page, live_server):
    page.goto(live_server.url + "/")
    assert page.locator("h1").inner_text().startswith("Anträge online stellen")
    assert page.evaluate("navigator.userAgent").find("Chrome") >= 0
