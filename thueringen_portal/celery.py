"""The Celery application; configuration comes from Django settings (CELERY_*)."""

import os

from celery import Celery, Task
from celery.signals import task_postrun, task_prerun, worker_init
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


def _preload_weasyprint(**_kwargs) -> None:
    """Import WeasyPrint in the worker's main process, before the pool forks.

    The import costs about 0.8 s of CPU (cffi bindings of pango, its CSS tables);
    done here, every pool process inherits it, and the first PDF of each process
    after a start or a replaced process no longer waits for it (those first PDFs
    were the slowest 5 % of submit → delivered at one submission per second,
    bench/bench_pipeline.py). Only the modules: fonts and documents, whose C state
    must not cross a fork, are still made in each pool process (submissions.pdf).
    """
    import weasyprint  # noqa: F401  (lazily everywhere else: the web processes never need it)


worker_init.connect(_preload_weasyprint, weak=False, dispatch_uid="portal-preload-weasyprint")
