"""Putting work on the broker after a commit, without ever undoing what was committed.

PostgreSQL records every step before its task is published, and the beat
sweepers re-enqueue what has no task (`pipeline_sweep`,
`case_resend_pending_notifications`). A publish that fails because Redis is
down is therefore only a delay: it is logged and left to them, and never
turned into an error page for a citizen whose application is already stored.
How long a publish may try is bounded by CELERY_TASK_PUBLISH_RETRY_POLICY and
the socket timeouts in the broker's transport options (settings).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from celery import Task, current_app
from django.db import transaction

logger = logging.getLogger(__name__)


def task_named(name: str) -> Task:
    """The task registered as ``name`` with the current Celery app.

    Lets a module enqueue a task without importing the module that defines
    it (that module usually imports the caller: tasks call services). A
    worker has imported the apps' ``tasks`` modules at start; any other
    process (web, shell) has Celery import them now, once. KeyError for a
    name no ``tasks`` module defines.
    """
    app = current_app
    if name not in app.tasks:
        # Celery's own discovery, not ``loader.import_default_modules``: that
        # one would also run Django's system checks inside a citizen's request.
        app.autodiscover_tasks(force=True)
    return app.tasks[name]


def task_enqueue(*, task: Task, args: Sequence, about: str, countdown: float | None = None) -> bool:
    """Publish ``task(*args)``; False (and an error logged) if the broker refused it.

    Call only for work whose state is committed, so that a sweeper finds it
    again. ``about`` names the work in the log (a reference or a row id, never
    personal data).
    """
    try:
        # No time limits in the message: Celery would take the publisher's
        # (a web process, beat) over the worker's own, and the worker's are
        # the ones its claims are computed from (``recovery.step_claim``).
        task.apply_async(tuple(args), countdown=countdown, time_limit=None, soft_time_limit=None)
    except Exception:
        # Broker down, DNS, timeouts: kombu raises several kinds, and none of
        # them may reach the caller, whose transaction has already committed.
        if task.app.conf.task_always_eager:
            # No broker (embedded default): the task itself ran here and failed.
            logger.error("%s for %s failed in-process", task.name, about, exc_info=True)
        else:
            logger.error(
                "could not enqueue %s for %s; it stays recorded and the sweeper will enqueue it",
                task.name,
                about,
                exc_info=True,
            )
        return False
    return True


def task_enqueue_on_commit(
    *, task: Task, args: Sequence, about: str, countdown: float | None = None
) -> None:
    """Publish ``task(*args)`` once the current transaction commits (at once outside one).

    Never raises: see ``task_enqueue``.
    """
    transaction.on_commit(
        lambda: task_enqueue(task=task, args=args, about=about, countdown=countdown)
    )
