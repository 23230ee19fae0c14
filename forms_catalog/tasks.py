"""Celery tasks of the form catalogue (thin: each calls one service)."""

from __future__ import annotations

from celery import shared_task

from .services import form_version_publish_due


@shared_task(
    name="forms_catalog.tasks.publish_due_form_versions",
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
)
def publish_due_form_versions() -> list[int]:
    """Beat job: publish the scheduled versions whose time has come (idempotent)."""
    return form_version_publish_due()
