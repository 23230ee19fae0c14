"""The beat job that publishes scheduled form versions, run by a real Celery worker."""

from __future__ import annotations

import copy
import datetime
import time

import pytest
from django.conf import settings
from django.utils import timezone

from forms_catalog.models import FormVersion
from forms_catalog.selectors import published_version
from forms_catalog.services import (
    form_version_approve,
    form_version_create_draft,
    form_version_publish_system,
    form_version_submit_for_review,
    form_version_update_draft,
)
from forms_catalog.tasks import publish_due_form_versions
from tests.factories import FormEditorFactory, ServiceFactory
from tests.forms_catalog.helpers import definition, field
from tests.support.worker import wait_until


def runs(worker) -> int:
    """How many runs of the task the worker finished (from its log)."""
    return sum(
        1
        for line in worker.log().splitlines()
        if "publish_due_form_versions[" in line and "succeeded" in line
    )


@pytest.mark.worker
def test_beat_job_in_a_worker_publishes_a_due_version_once(celery_worker):
    assert (
        settings.CELERY_BEAT_SCHEDULE["forms-catalog-publish-due"]["task"]
        == publish_due_form_versions.name
    )
    author, reviewer = FormEditorFactory(), FormEditorFactory()
    service = ServiceFactory()
    v1 = form_version_create_draft(service=service, definition=definition(field("a", "text")))
    form_version_publish_system(version=v1)
    draft = form_version_create_draft(service=service, user=author)
    changed = copy.deepcopy(draft.definition)
    changed["steps"][0]["fields"].append(field("b", "text", required=False))
    form_version_update_draft(version=draft, definition=changed, user=author)
    form_version_submit_for_review(version=draft, user=author, note="Feld b")
    due = timezone.now() + datetime.timedelta(seconds=5)
    later = FormVersion.objects.create(  # another service's version, due next week
        service=ServiceFactory(),
        number=1,
        status=FormVersion.Status.SCHEDULED,
        definition=definition(field("x", "text")),
        publish_at=timezone.now() + datetime.timedelta(days=7),
    )
    form_version_approve(
        version=draft, user=reviewer, checksum=draft.checksum, note="ok", publish_at=due
    )

    publish_due_form_versions.delay()  # too early: nothing happens
    wait_until(lambda: runs(celery_worker) == 1, message=celery_worker.log())
    assert timezone.now() < due, "the worker was too slow for this test's timing"
    draft.refresh_from_db()
    assert draft.status == FormVersion.Status.SCHEDULED, celery_worker.log()
    time.sleep(max(0.0, (due - timezone.now()).total_seconds()) + 0.2)

    publish_due_form_versions.delay()
    publish_due_form_versions.delay()  # a second run at the same time changes nothing
    wait_until(
        lambda: FormVersion.objects.get(pk=draft.pk).status == FormVersion.Status.PUBLISHED,
        message=f"the scheduled version was not published:\n{celery_worker.log()}",
    )
    wait_until(lambda: runs(celery_worker) == 3, message=celery_worker.log())
    assert published_version(service=service).pk == draft.pk
    v1.refresh_from_db()
    later.refresh_from_db()
    assert v1.status == FormVersion.Status.RETIRED
    assert later.status == FormVersion.Status.SCHEDULED
    assert draft.events.filter(action="published", actor=None).count() == 1
