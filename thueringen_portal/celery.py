"""The Celery application; configuration comes from Django settings (CELERY_*)."""

import os

from celery import Celery, Task
from celery.signals import task_postrun, task_prerun
from django.db import close_old_connections

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "thueringen_portal.settings")

app = Celery("thueringen_portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def _close_old_db_connections(sender: Task | None = None, **kwargs) -> None:
    """Around each task, close a database connection that is broken or past CONN_MAX_AGE.

    Celery's Django fix-up would close every connection before and after
    each task (CELERY_DB_REUSE_MAX lets it keep them): a new PostgreSQL
    connection per task, with its server process to start and its catalogue
    caches to fill, cost more worker and database time than the bookkeeping
    of most pipeline steps. Workers now treat a task as Django treats a
    request: the connection stays open unless it failed (a restarted
    PostgreSQL) or outlived CONN_MAX_AGE; CONN_HEALTH_CHECKS tests it before
    reuse. An eager task runs inside the caller's request or transaction,
    whose connection is not ours to close.
    """
    if sender is not None and getattr(sender.request, "is_eager", False):
        return
    close_old_connections()


task_prerun.connect(_close_old_db_connections, weak=False, dispatch_uid="portal-db-prerun")
task_postrun.connect(_close_old_db_connections, weak=False, dispatch_uid="portal-db-postrun")
