"""What a log line is about: the request id and the submission reference, as context variables.

The web side sets the request id (``thueringen_portal.middleware``); the
pipeline's tasks get the submission reference bound here, before they run, from
the id they were called with. A logging filter (``thueringen_portal.logs``)
copies both onto every record. Only identifiers go into logs, never personal
data: the reference is the public case number, not the applicant.
"""

from __future__ import annotations

from contextvars import ContextVar

from celery.signals import task_postrun, task_prerun
from django.apps import apps

request_id: ContextVar[str | None] = ContextVar("portal_request_id", default=None)
submission_reference: ContextVar[str | None] = ContextVar(
    "portal_submission_reference", default=None
)

# Pipeline tasks and the model their first argument is the id of.
_SUBMISSION_TASKS = {
    "submissions.tasks.resolve_office",
    "submissions.tasks.render_pdfs",
    "submissions.tasks.deliver_submission",
    "submissions.tasks.notify_citizen",
}
_DELIVERY_TASKS = {"submissions.tasks.deliver_delivery"}


def submission_reference_for_task(*, task_name: str, args: tuple, kwargs: dict) -> str | None:
    """The reference of the submission a pipeline task works on, or None for other tasks.

    One indexed primary-key read per task; a row that is gone gives None.
    """
    if task_name in _SUBMISSION_TASKS:
        model, lookup, key = "Submission", "reference", "submission_id"
    elif task_name in _DELIVERY_TASKS:
        model, lookup, key = "Delivery", "submission__reference", "delivery_id"
    else:
        return None
    pk = args[0] if args else (kwargs or {}).get(key)
    if pk is None:
        return None
    # Looked up through the app registry: this module is imported while apps load.
    manager = apps.get_model("submissions", model).objects
    return manager.filter(pk=pk).values_list(lookup, flat=True).first()


def _bind_submission(sender=None, task=None, args=None, kwargs=None, **_extra) -> None:
    name = getattr(task, "name", "") or ""
    reference = submission_reference_for_task(
        task_name=name, args=tuple(args or ()), kwargs=dict(kwargs or {})
    )
    submission_reference.set(reference)


def _unbind_submission(**_extra) -> None:
    # Worker processes are reused: the next task must not inherit this reference.
    submission_reference.set(None)


def connect_task_signals() -> None:
    """Bind the submission reference around every task run. Idempotent (dispatch_uid)."""
    task_prerun.connect(_bind_submission, dispatch_uid="portal-log-context-prerun", weak=False)
    task_postrun.connect(_unbind_submission, dispatch_uid="portal-log-context-postrun", weak=False)
