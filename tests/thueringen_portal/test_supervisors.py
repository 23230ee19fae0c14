"""Every documented way of running the portal has a supervisor, and its commands really start.

The systemd units under docs/systemd/ cannot be run by systemd here; their
ExecStart lines are run as written (paths mapped to this checkout), so a wrong
option or path in the documentation fails this test.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
import yaml

from tests.support import worker as worker_support

ROOT = Path(__file__).resolve().parents[2]
UNITS = ROOT / "docs" / "systemd"


def read_unit(path: Path) -> dict[str, list[str]]:
    """``{"Section.Key": [values]}`` of a systemd unit file (continuation lines joined)."""
    text = re.sub(r"\\\n\s*", " ", path.read_text())
    entries: dict[str, list[str]] = {}
    section = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        key, _, value = line.partition("=")
        entries.setdefault(f"{section}.{key}", []).append(value.strip())
    return entries


def test_compose_restarts_every_long_running_service():
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    for name, service in services.items():
        expected = "on-failure" if name == "objectstore-init" else "unless-stopped"
        assert service.get("restart") == expected, name
    beat = services["beat"]
    assert "/var/lib/portal/celerybeat-schedule" in beat["command"]
    assert beat["deploy"]["replicas"] == 1


@pytest.mark.parametrize(
    "name", ["portal-web.service", "portal-worker@.service", "portal-beat.service"]
)
def test_each_systemd_unit_restarts_always_as_the_portal_user_with_the_env_file(name):
    unit = read_unit(UNITS / name)
    assert unit["Service.Restart"] == ["always"]
    assert unit["Service.User"] == ["portal"]
    assert unit["Service.EnvironmentFile"] == ["/etc/portal/portal.env"]
    assert unit["Install.WantedBy"] == ["multi-user.target"]
    if name != "portal-web.service":
        # Never give up restarting a worker while the broker is away.
        assert unit["Unit.StartLimitIntervalSec"] == ["0"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def command_of(name: str, *, state: Path, port: int) -> tuple[list[str], dict[str, str]]:
    """The unit's ExecStart as argv for this checkout, and its default environment."""
    unit = read_unit(UNITS / name)
    env = dict(value.split("=", 1) for value in unit.get("Service.Environment", []))
    line = unit["Service.ExecStart"][0]
    line = line.replace("/opt/portal/.venv/bin/", f"{ROOT}/.venv/bin/")
    line = line.replace("/var/lib/portal", str(state)).replace(
        "127.0.0.1:8000", f"127.0.0.1:{port}"
    )
    line = line.replace("%I", "default,pdf,delivery,email").replace("%p", "portal-worker")
    line = line.replace("%i", "all").replace("%H", "localhost")
    line = re.sub(r"\$\{(\w+)\}", lambda m: env[m.group(1)], line)
    assert "%" not in line and "$" not in line, line
    return line.split(), env


def run_until(argv, env, log: Path, ready, *, timeout: float = 60) -> None:
    with log.open("wb") as out:
        process = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        deadline = time.monotonic() + timeout
        while not ready():
            assert process.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.3)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)


def healthz_ok(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
            return response.status == 200
    except OSError:
        return False


@pytest.mark.django_db(transaction=True)
def test_the_documented_unit_commands_start_web_worker_and_beat(tmp_path, clean_broker):
    state = tmp_path / "state"
    state.mkdir()
    port = free_port()

    argv, defaults = command_of("portal-web.service", state=state, port=port)
    metrics_dir = tmp_path / "run-portal-web"
    metrics_dir.mkdir()
    env = worker_support.worker_env({**defaults, "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)})
    run_until(argv, env, tmp_path / "web.log", lambda: healthz_ok(port))
    assert "--workers 5" in " ".join(argv)

    argv, defaults = command_of("portal-worker@.service", state=state, port=port)
    log = tmp_path / "worker.log"
    run_until(
        argv, worker_support.worker_env(defaults), log, lambda: b" ready." in log.read_bytes()
    )
    assert "default,pdf,delivery,email" in argv

    argv, defaults = command_of("portal-beat.service", state=state, port=port)
    log = tmp_path / "beat.log"
    run_until(
        argv,
        worker_support.worker_env(defaults),
        log,
        lambda: any(state.glob("celerybeat-schedule*")) and b"beat: Starting" in log.read_bytes(),
    )
