"""The Celery wiring (thueringen_portal/celery.py): a worker's database connection between tasks."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from django.db import connection

from tests.support.worker import wait_until
from thueringen_portal.models import WorkerHeartbeat
from thueringen_portal.tasks import record_heartbeat


def other_backends() -> set[tuple]:
    """The PostgreSQL connections to the test database other than this process's own."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid, backend_start FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND backend_type = 'client backend'"
        )
        return set(cursor.fetchall())


@pytest.mark.worker
def test_regression_worker_keeps_its_database_connection_between_tasks(celery_worker):
    # Celery's Django fix-up closed the connection around every task: a new
    # PostgreSQL connection (server process, catalogue caches) for each one.
    seen = []
    for _ in range(3):
        token = uuid.uuid4().hex
        record_heartbeat.delay(token)
        wait_until(
            lambda token=token: WorkerHeartbeat.objects.filter(token=token).exists(),
            message=f"the worker did not record the heartbeat:\n{celery_worker.log()}",
        )
        wait_until(
            lambda: bool(other_backends()),
            timeout=5,
            message="the worker closed its database connection after the task",
        )
        seen.append(other_backends())
    assert seen[0] == seen[1] == seen[2], seen


def _pool_children(pid: int) -> list[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [int(child) for child in children]


@pytest.mark.worker
def test_pool_processes_start_with_weasyprint_loaded(celery_worker):
    # The first PDF of each pool process waited ~0.8 s for WeasyPrint's import
    # (the slowest 5 % of submit → delivered); the main process now imports it
    # before forking, so a pool process has pango mapped before any task ran.
    wait_until(
        lambda: bool(_pool_children(celery_worker.pid)),
        timeout=10,
        message=f"the worker has no pool process:\n{celery_worker.log()}",
    )
    for child in _pool_children(celery_worker.pid):
        maps = Path(f"/proc/{child}/maps").read_text()
        assert "libpango" in maps, f"pool process {child} started without WeasyPrint"
    assert "Task" not in celery_worker.log(), "a task ran before the check"
