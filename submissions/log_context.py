"""What a log line is about: the request id and the submission reference, as context variables.

The web side sets the request id (``thueringen_portal.middleware``); it travels
with each task in a message header, and each pipeline task gets the submission
reference bound here, before it runs, from the id it was called with. A logging
filter (``thueringen_portal.logs``) copies both onto every record. Only
identifiers go into logs, never personal data: the reference is the public case
number, not the applicant.
"""

from __future__ import annotations

from contextvars import ContextVar, Token

from celery.signals import before_task_publish, task_postrun, task_prerun
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


# Message header that carries the request id from the web request to its tasks,
# and from each pipeline task to the next, so one id follows a submission.
REQUEST_ID_HEADER = "portal_request_id"
# Tokens to restore the context after a task; keyed by task id (eager tasks nest).
_tokens: dict[str, tuple[Token, Token]] = {}


def _stamp_request_id(headers=None, **_extra) -> None:
    value = request_id.get()
    if value and headers is not None:
        headers[REQUEST_ID_HEADER] = value


def _bind_submission(sender=None, task_id=None, task=None, args=None, kwargs=None, **_extra):
    name = getattr(task, "name", "") or ""
    reference = submission_reference_for_task(
        task_name=name, args=tuple(args or ()), kwargs=dict(kwargs or {})
    )
    incoming = getattr(getattr(task, "request", None), REQUEST_ID_HEADER, None)
    # Run in-process (no broker), a task keeps the id of the request it runs in.
    _tokens[str(task_id)] = (
        submission_reference.set(reference),
        request_id.set(incoming or request_id.get()),
    )


def _unbind_submission(task_id=None, **_extra) -> None:
    # Worker processes are reused: the next task must not inherit this context.
    tokens = _tokens.pop(str(task_id), None)
    if tokens is None:
        submission_reference.set(None)
        return
    reference_token, request_token = tokens
    submission_reference.reset(reference_token)
    request_id.reset(request_token)


def connect_task_signals() -> None:
    """Bind request id and submission reference around every task run. Idempotent."""
    before_task_publish.connect(
        _stamp_request_id, dispatch_uid="portal-log-context-publish", weak=False
    )
    task_prerun.connect(_bind_submission, dispatch_uid="portal-log-context-prerun", weak=False)
    task_postrun.connect(_unbind_submission, dispatch_uid="portal-log-context-postrun", weak=False)
