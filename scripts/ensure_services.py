#!/usr/bin/env python3
"""Make sure the services the test suite needs are there, or fail at once saying what is missing.

Runs with the system Python (standard library only), before the test suite:
- PostgreSQL at DATABASE_URL and Redis at REDIS_URL: if one is installed on
  this machine but stopped, start it; if it cannot be reached, exit non-zero.
- Chromium at /usr/bin/chromium (Playwright drives the system browser,
  browser downloads are not possible): install it from the OS packages.
- The system libraries WeasyPrint needs (Pango).
- nginx: the production-configuration tests run the portal behind it, as the
  TLS-terminating reverse proxy of docs/nginx.conf (started by the tests
  themselves as a foreground process, never as a system service).
"""

from __future__ import annotations

import ctypes.util
import glob
import os
import shutil
import socket
import subprocess
import sys
import time
from urllib.parse import urlparse

CHROMIUM = "/usr/bin/chromium"
NGINX = "/usr/sbin/nginx"


def reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1.5):
            return True
    except OSError:
        return False


def wait_for(host: str, port: int, seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if reachable(host, port):
            return True
        time.sleep(0.5)
    return False


def is_local(host: str) -> bool:
    return host in {"127.0.0.1", "localhost", "::1", ""}


def run_quietly(cmd: list[str]) -> None:
    print("  starting:", " ".join(cmd))
    subprocess.run(cmd, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def start_postgres() -> None:
    if shutil.which("pg_ctlcluster"):
        for version_dir in sorted(glob.glob("/etc/postgresql/*")):
            version = os.path.basename(version_dir)
            run_quietly(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"])
    elif shutil.which("pg_ctl") and os.environ.get("PGDATA"):
        run_quietly(["pg_ctl", "start", "-w", "-D", os.environ["PGDATA"]])


def start_redis(port: int) -> None:
    if shutil.which("redis-server"):
        data_dir = os.path.join(
            os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "var", "redis"
        )
        os.makedirs(data_dir, exist_ok=True)
        run_quietly(
            [
                "redis-server",
                "--daemonize",
                "yes",
                "--bind",
                "127.0.0.1",
                "--port",
                str(port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                data_dir,
            ]
        )


def ensure_service(name: str, url: str, default_port: int, starter, how_to_get: str) -> str | None:
    parsed = urlparse(url)
    host, port = parsed.hostname or "127.0.0.1", parsed.port or default_port
    if reachable(host, port):
        return None
    # PORTAL_NO_SERVICE_START=1: only check, never start (e.g. on a shared server).
    if is_local(host) and os.environ.get("PORTAL_NO_SERVICE_START") != "1":
        print(f"{name} is not answering on {host}:{port}; trying to start it.")
        starter(port) if name == "Redis" else starter()
        if wait_for(host, port):
            print(f"  {name} is up.")
            return None
    return f"{name} cannot be reached at {host}:{port} ({url}). {how_to_get}"


def apt_install(packages: list[str]) -> bool:
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return False
    print("  installing from the OS packages:", " ".join(packages))
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "update", "-qq"], check=False, env=env)
    result = subprocess.run(
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *packages],
        check=False,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    return result.returncode == 0


def ensure_chromium() -> str | None:
    if os.path.exists(CHROMIUM):
        return None
    print("Chromium is missing (browser tests drive the system Chromium).")
    if apt_install(["chromium", "fonts-dejavu-core"]) and os.path.exists(CHROMIUM):
        return None
    return f"Chromium is not installed at {CHROMIUM}. Install it: apt-get install chromium"


def ensure_pango() -> str | None:
    if ctypes.util.find_library("pango-1.0") and ctypes.util.find_library("pangoft2-1.0"):
        return None
    print("Pango (needed by WeasyPrint) is missing.")
    if apt_install(["libpango-1.0-0", "libpangoft2-1.0-0", "fonts-dejavu-core"]):
        return None
    return "WeasyPrint needs Pango: apt-get install libpango-1.0-0 libpangoft2-1.0-0"


def ensure_nginx() -> str | None:
    if os.path.exists(NGINX):
        return None
    print("nginx is missing (the production-configuration tests run the portal behind it).")
    # The tests use free ports: a system service the package may start does not collide.
    if apt_install(["nginx"]) and os.path.exists(NGINX):
        return None
    return f"nginx is not installed at {NGINX}. Install it: apt-get install nginx"


def main() -> int:
    database_url = os.environ.get("DATABASE_URL", "")
    redis_url = os.environ.get("REDIS_URL", "")
    problems = []
    if not database_url.startswith(("postgres://", "postgresql://")):
        problems.append(
            "DATABASE_URL must point to PostgreSQL for the tests (e.g. "
            "postgres://postgres@127.0.0.1:5432/thueringen_portal)."
        )
    else:
        problems.append(
            ensure_service(
                "PostgreSQL",
                database_url,
                5432,
                start_postgres,
                "Install and start PostgreSQL 15+ (apt-get install postgresql), "
                "or set DATABASE_URL to a server you can reach.",
            )
        )
    if not redis_url.startswith("redis://"):
        problems.append(
            "REDIS_URL must point to Redis for the tests (e.g. redis://127.0.0.1:6379/9)."
        )
    else:
        problems.append(
            ensure_service(
                "Redis",
                redis_url,
                6379,
                start_redis,
                "Install and start Redis 7 (apt-get install redis-server), "
                "or set REDIS_URL to a server you can reach.",
            )
        )
    problems.append(ensure_chromium())
    problems.append(ensure_pango())
    problems.append(ensure_nginx())
    problems = [p for p in problems if p]
    if problems:
        print("\nThe test suite cannot run; missing:", file=sys.stderr)
        for problem in problems:
            print(f"  - {problem}", file=sys.stderr)
        return 1
    print("Services ready: PostgreSQL, Redis, Chromium, WeasyPrint libraries, nginx.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
