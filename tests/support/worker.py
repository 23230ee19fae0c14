"""A real Celery worker process for integration tests.

The worker is a separate OS process started with `celery worker` against the
test Redis and the test PostgreSQL database (the one pytest-django created), so
tests see exactly what production does: JSON over the broker, another process,
another database connection. Tests that use it need committed data, so they
use the `transactional_db` fixture.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import connections

from thueringen_portal.celery import app as celery_app

ALL_QUEUES = "default,pdf,delivery,email"
# Worker settings for fault tests that wait for a killed worker's claims to
# expire: short time limits (still above PORTAL_WEBHOOK_TIMEOUT_SECONDS of
# those tests) and a one-second margin.
FAST_RECOVERY_ENV = {
    "PORTAL_STEP_TIME_LIMIT": "40",
    "PORTAL_STEP_SOFT_TIME_LIMIT": "35",
    "PORTAL_PDF_TIME_LIMIT": "40",
    "PORTAL_PDF_SOFT_TIME_LIMIT": "35",
    "PORTAL_STEP_CLAIM_MARGIN_SECONDS": "1",
}
ROOT = Path(__file__).resolve().parents[2]


def test_database_url() -> str:
    """The URL of the database pytest-django created, for processes we start."""
    db = connections["default"].settings_dict
    user = db.get("USER") or ""
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    return f"postgres://{auth}{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


class WorkerProcess:
    def __init__(self, *, queues: str, concurrency: int, log_path: Path, env: dict[str, str]):
        self.name = f"test-{uuid.uuid4().hex[:8]}@localhost"
        self.queues = queues
        self.concurrency = concurrency
        self.log_path = log_path
        self.env = env
        self.process: subprocess.Popen | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self, timeout: float = 60) -> WorkerProcess:
        cmd = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "thueringen_portal",
            "worker",
            "-Q",
            self.queues,
            "-c",
            str(self.concurrency),
            "--pool",
            "prefork",
            "-n",
            self.name,
            "--without-gossip",
            "--without-mingle",
            "-l",
            "INFO",
        ]
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            cmd,
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"Celery worker exited at start:\n{self.log()}")
            if b" ready." in self.log_path.read_bytes():
                return self
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"Celery worker did not become ready in {timeout}s:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-5000:]

    def kill(self) -> None:
        """SIGKILL the worker and its pool children: a crash, as in production."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()


def worker_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env["DATABASE_URL"] = test_database_url()
    env["DJANGO_SETTINGS_MODULE"] = "thueringen_portal.settings"
    env.update(extra or {})
    return env


@contextmanager
def celery_worker_process(
    tmp_path: Path,
    *,
    queues: str = ALL_QUEUES,
    concurrency: int = 1,
    env: dict[str, str] | None = None,
) -> Iterator[WorkerProcess]:
    worker = WorkerProcess(
        queues=queues,
        concurrency=concurrency,
        log_path=tmp_path / f"worker-{uuid.uuid4().hex[:6]}.log",
        env=worker_env(env),
    )
    worker.start()
    try:
        yield worker
    finally:
        worker.stop()


@pytest.fixture
def clean_broker() -> Iterator[redis.Redis]:
    """An empty broker database, so no task of an earlier test or run is picked up."""
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    client.flushdb()
    yield client
    client.flushdb()


@pytest.fixture
def celery_worker(transactional_db, clean_broker, tmp_path) -> Iterator[WorkerProcess]:
    """A running worker process consuming every queue."""
    assert not celery_app.conf.task_always_eager, "tests must use a real broker"
    with celery_worker_process(tmp_path) as worker:
        yield worker


@pytest.fixture
def start_worker(transactional_db, clean_broker, tmp_path):
    """Start (and later stop) workers with custom options, e.g. several or one per queue."""
    started: list[WorkerProcess] = []

    def _start(*, queues: str = ALL_QUEUES, concurrency: int = 1, env=None) -> WorkerProcess:
        worker = WorkerProcess(
            queues=queues,
            concurrency=concurrency,
            log_path=tmp_path / f"worker-{len(started)}.log",
            env=worker_env(env),
        )
        started.append(worker)
        return worker.start()

    yield _start
    for worker in started:
        worker.stop()


def wait_until(predicate, *, timeout: float = 30, interval: float = 0.2, message: str = "") -> None:
    """Poll until predicate() is true; fail the test with `message` on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    pytest.fail(message or f"condition not met within {timeout}s")
