"""Review and publish: draft -> in review -> approved by a second editor (-> scheduled) ->
published, with the four-eyes rule, the permission and the history checked in the services."""

from __future__ import annotations

import copy
import datetime
import threading

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from forms_catalog.models import FormVersion, FormVersionEvent
from forms_catalog.selectors import form_version_history, published_version
from forms_catalog.services import (
    FormVersionError,
    form_version_approve,
    form_version_create_draft,
    form_version_publish,
    form_version_publish_due,
    form_version_publish_system,
    form_version_request_changes,
    form_version_schedule,
    form_version_submit_for_review,
    form_version_update_draft,
)
from forms_catalog.tasks import publish_due_form_versions
from tests.factories import FormEditorFactory, ServiceFactory, UserFactory
from tests.forms_catalog.helpers import definition, field

pytestmark = pytest.mark.django_db

V1 = definition(field("a", "text"))


def published_service():
    service = ServiceFactory()
    v1 = form_version_create_draft(service=service, definition=copy.deepcopy(V1))
    form_version_publish_system(version=v1, note="Start")
    return service, v1


def changed(defn: dict) -> dict:
    new = copy.deepcopy(defn)
    new["steps"][0]["fields"].append(field("b", "text", required=False))
    return new


def in_review(author):
    service, v1 = published_service()
    draft = form_version_create_draft(service=service, user=author)
    form_version_update_draft(version=draft, definition=changed(draft.definition), user=author)
    form_version_submit_for_review(version=draft, user=author, note="Feld b ergänzt")
    return service, v1, draft


def test_full_review_publishes_and_records_who_did_what():
    author, reviewer = FormEditorFactory(), FormEditorFactory()
    service, v1, draft = in_review(author)
    assert draft.status == FormVersion.Status.IN_REVIEW and draft.change_note == "Feld b ergänzt"
    form_version_approve(
        version=draft, user=reviewer, checksum=draft.checksum, note="Geprüft, passt."
    )
    assert draft.status == FormVersion.Status.APPROVED and draft.approved_by == reviewer
    assert published_version(service=service) == v1  # approval alone publishes nothing
    form_version_publish(version=draft, user=reviewer)
    draft.refresh_from_db()
    v1.refresh_from_db()
    assert draft.status == FormVersion.Status.PUBLISHED and draft.published_by == reviewer
    assert v1.status == FormVersion.Status.RETIRED
    history = [(e.action, e.actor) for e in form_version_history(version=draft)]
    assert history == [
        (FormVersionEvent.Action.CREATED, author),
        (FormVersionEvent.Action.EDITED, author),
        (FormVersionEvent.Action.SUBMITTED, author),
        (FormVersionEvent.Action.APPROVED, reviewer),
        (FormVersionEvent.Action.PUBLISHED, reviewer),
    ]
    approved = form_version_history(version=draft)[3]
    assert approved.note == "Geprüft, passt." and approved.checksum == draft.checksum
    # The system publication of the catalogue file is in v1's history, without a person.
    assert [(e.action, e.actor) for e in form_version_history(version=v1)][-1] == (
        FormVersionEvent.Action.PUBLISHED,
        None,
    )


def test_author_approving_own_version_is_refused_with_a_german_message():
    author = FormEditorFactory()
    _, _, draft = in_review(author)
    with pytest.raises(FormVersionError, match="Vier-Augen-Prinzip"):
        form_version_approve(version=draft, user=author, checksum=draft.checksum, note="ok")
    draft.refresh_from_db()
    assert draft.status == FormVersion.Status.IN_REVIEW and draft.approved_by is None


def test_co_author_who_edited_the_draft_cannot_approve_it_either():
    author, helper, reviewer = FormEditorFactory(), FormEditorFactory(), FormEditorFactory()
    service, _ = published_service()
    draft = form_version_create_draft(service=service, user=author)
    form_version_update_draft(version=draft, definition=changed(draft.definition), user=helper)
    form_version_submit_for_review(version=draft, user=author, note="gemeinsam")
    with pytest.raises(FormVersionError, match="mitgearbeitet"):
        form_version_approve(version=draft, user=helper, checksum=draft.checksum, note="ok")
    form_version_approve(version=draft, user=reviewer, checksum=draft.checksum, note="ok")


@pytest.mark.parametrize("who", ["clerk", "inactive", "anonymous"])
def test_non_editors_can_do_nothing(who):
    author = FormEditorFactory()
    _, _, draft = in_review(author)
    if who == "clerk":
        user = UserFactory()
    elif who == "inactive":
        user = FormEditorFactory(is_active=False)
    else:
        user = None
    message = "Nur Mitglieder des Kompetenzzentrums"
    with pytest.raises(FormVersionError, match=message):
        form_version_approve(version=draft, user=user, checksum=draft.checksum, note="ok")
    with pytest.raises(FormVersionError, match=message):
        form_version_request_changes(version=draft, user=user, reason="nein")
    with pytest.raises(FormVersionError, match=message):
        form_version_publish(version=draft, user=user)
    draft.refresh_from_db()
    assert draft.status == FormVersion.Status.IN_REVIEW
    if user is not None:
        with pytest.raises(FormVersionError, match=message):
            form_version_create_draft(service=ServiceFactory(), user=user)


def test_approving_a_changed_draft_is_refused():
    """The reviewer opened the review page; meanwhile the author took the version back,
    changed it and submitted it again: the approval of the old page must not count."""
    author, reviewer = FormEditorFactory(), FormEditorFactory()
    _, _, draft = in_review(author)
    seen = draft.checksum
    form_version_request_changes(version=draft, user=author, reason="noch ein Feld")
    again = copy.deepcopy(draft.definition)
    again["steps"][0]["fields"].append(field("c", "text", required=False))
    form_version_update_draft(version=draft, definition=again, user=author)
    form_version_submit_for_review(version=draft, user=author, note="Feld c auch")
    with pytest.raises(FormVersionError, match="geändert, seit Sie sie geöffnet"):
        form_version_approve(version=draft, user=reviewer, checksum=seen, note="ok")
    with pytest.raises(FormVersionError, match="geändert"):
        form_version_approve(version=draft, user=reviewer, checksum=["forged"], note="ok")
    draft.refresh_from_db()
    assert draft.status == FormVersion.Status.IN_REVIEW


def test_editing_in_review_or_approved_is_refused_until_sent_back():
    author, reviewer = FormEditorFactory(), FormEditorFactory()
    _, _, draft = in_review(author)
    with pytest.raises(FormVersionError, match="zur Überarbeitung zurück"):
        form_version_update_draft(version=draft, definition=V1, user=author)
    form_version_approve(version=draft, user=reviewer, checksum=draft.checksum, note="ok")
    with pytest.raises(FormVersionError, match="zur Überarbeitung zurück"):
        form_version_update_draft(version=draft, definition=V1, user=author)
    form_version_request_changes(version=draft, user=reviewer, reason="Beschriftung von b")
    assert draft.status == FormVersion.Status.DRAFT and draft.approved_by is None
    form_version_update_draft(version=draft, definition=V1, user=author)
    last = form_version_history(version=draft)[-2]
    assert last.action == FormVersionEvent.Action.CHANGES_REQUESTED
    assert last.note == "Beschriftung von b" and last.actor == reviewer


@pytest.mark.parametrize("note", ["", "   ", None, 42, "x" * 2001])
def test_change_note_and_reason_are_required(note):
    author, reviewer = FormEditorFactory(), FormEditorFactory()
    service, _ = published_service()
    draft = form_version_create_draft(service=service, user=author)
    with pytest.raises(FormVersionError, match=r"Änderungshinweis|zu lang"):
        form_version_submit_for_review(version=draft, user=author, note=note)
    form_version_submit_for_review(version=draft, user=author, note="ok")
    with pytest.raises(FormVersionError, match=r"Grund|zu lang"):
        form_version_request_changes(version=draft, user=reviewer, reason=note)
    with pytest.raises(FormVersionError, match=r"Notiz|zu lang"):
        form_version_approve(version=draft, user=reviewer, checksum=draft.checksum, note=note)
    assert draft.status == FormVersion.Status.IN_REVIEW


def test_a_broken_definition_cannot_go_to_review():
    author = FormEditorFactory()
    service, _ = published_service()
    broken = definition(field("x", "choice"))  # a choice without options
    draft = form_version_create_draft(service=service, user=author, definition=broken)
    with pytest.raises(FormVersionError) as info:
        form_version_submit_for_review(version=draft, user=author, note="kaputt")
    assert any("options" in e.message for e in info.value.errors)
    draft.refresh_from_db()
    assert draft.status == FormVersion.Status.DRAFT


def test_publishing_twice_and_publishing_unapproved_versions_are_refused():
    author, reviewer = FormEditorFactory(), FormEditorFactory()
    service, _v1, draft = in_review(author)
    with pytest.raises(FormVersionError, match="freigegebene"):
        form_version_publish(version=draft, user=author)  # still in review
    form_version_approve(version=draft, user=reviewer, checksum=draft.checksum, note="ok")
    form_version_publish(version=draft, user=author)  # after approval anyone may press it
    with pytest.raises(FormVersionError, match="bereits veröffentlicht"):
        form_version_publish(version=draft, user=reviewer)
    assert FormVersion.objects.filter(service=service, status="published").count() == 1
    assert draft.events.filter(action="published").count() == 1


def test_one_open_version_per_service_includes_versions_in_review():
    author = FormEditorFactory()
    service, _, _draft = in_review(author)
    with pytest.raises(FormVersionError, match="bereits einen Entwurf"):
        form_version_create_draft(service=service, user=author)


def in_the_future(**delta) -> datetime.datetime:
    return timezone.now() + datetime.timedelta(**delta)


def test_schedule_in_the_past_or_naive_is_refused_and_nothing_is_approved():
    author, reviewer = FormEditorFactory(), FormEditorFactory()
    _, _, draft = in_review(author)
    with pytest.raises(FormVersionError, match="Vergangenheit"):
        form_version_approve(
            version=draft,
            user=reviewer,
            checksum=draft.checksum,
            note="ok",
            publish_at=timezone.now() - datetime.timedelta(minutes=1),
        )
    draft.refresh_from_db()
    # One transaction: the refused schedule also undid the approval.
    assert draft.status == FormVersion.Status.IN_REVIEW and draft.approved_by is None
    assert not draft.events.filter(action="approved").exists()
    form_version_approve(version=draft, user=reviewer, checksum=draft.checksum, note="ok")
    with pytest.raises(FormVersionError, match="Datum und Uhrzeit"):
        form_version_schedule(
            version=draft, user=reviewer, publish_at=datetime.datetime(2030, 1, 1, 8, 0)
        )
    with pytest.raises(FormVersionError, match="Datum und Uhrzeit"):
        form_version_schedule(version=draft, user=reviewer, publish_at="morgen")
    form_version_schedule(version=draft, user=reviewer, publish_at=in_the_future(days=1))
    assert draft.status == FormVersion.Status.SCHEDULED


def test_scheduled_version_is_published_when_due_and_only_once():
    author, reviewer = FormEditorFactory(), FormEditorFactory()
    service, v1, draft = in_review(author)
    form_version_approve(
        version=draft,
        user=reviewer,
        checksum=draft.checksum,
        note="zum Monatsersten",
        publish_at=in_the_future(hours=2),
    )
    assert draft.status == FormVersion.Status.SCHEDULED
    assert form_version_publish_due() == []  # not yet
    assert published_version(service=service) == v1
    assert form_version_publish_due(now=in_the_future(hours=3)) == [draft.pk]
    assert form_version_publish_due(now=in_the_future(hours=3)) == []  # idempotent
    draft.refresh_from_db()
    assert draft.status == FormVersion.Status.PUBLISHED and draft.published_by is None
    assert published_version(service=service) == draft
    published = draft.events.get(action="published")
    assert published.actor is None and "Geplante" in published.note
    assert draft.events.get(action="scheduled").actor == reviewer


def test_scheduled_version_can_be_cancelled_or_published_early():
    author, reviewer = FormEditorFactory(), FormEditorFactory()
    _service, _v1, draft = in_review(author)
    form_version_approve(
        version=draft,
        user=reviewer,
        checksum=draft.checksum,
        note="ok",
        publish_at=in_the_future(days=7),
    )
    form_version_request_changes(version=draft, user=author, reason="doch nicht")
    assert draft.status == FormVersion.Status.DRAFT and draft.publish_at is None
    assert form_version_publish_due(now=in_the_future(days=8)) == []
    form_version_submit_for_review(version=draft, user=author, note="wieder")
    form_version_approve(
        version=draft, user=reviewer, checksum=draft.checksum, note="ok", publish_at=None
    )
    form_version_schedule(version=draft, user=reviewer, publish_at=in_the_future(days=7))
    form_version_publish(version=draft, user=reviewer)  # "publish now" after all
    assert draft.publish_at is None
    assert form_version_publish_due(now=in_the_future(days=8)) == []
    assert draft.events.filter(action="published").count() == 1


def test_beat_schedule_names_the_publish_task():
    schedule = settings.CELERY_BEAT_SCHEDULE["forms-catalog-publish-due"]
    assert schedule["task"] == publish_due_form_versions.name


def race(*jobs) -> list[str]:
    """Run the jobs in threads released at the same moment; their outcomes."""
    barrier = threading.Barrier(len(jobs))
    outcomes: list[str] = []

    def run(job):
        try:
            barrier.wait(5)
            outcomes.append(job())
        except FormVersionError as exc:
            outcomes.append(exc.message)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return outcomes


def publisher(version, user):
    def job():
        form_version_publish(version=FormVersion.objects.get(pk=version.pk), user=user)
        return "published"

    return job


@pytest.mark.django_db(transaction=True)
def test_concurrent_publish_by_two_editors_publishes_once():
    author, first, second = FormEditorFactory(), FormEditorFactory(), FormEditorFactory()
    service, _v1, draft = in_review(author)
    form_version_approve(version=draft, user=first, checksum=draft.checksum, note="ok")
    outcomes = race(publisher(draft, first), publisher(draft, second))
    assert sorted(outcomes) == ["Diese Version ist bereits veröffentlicht.", "published"]
    assert FormVersion.objects.filter(service=service, status="published").count() == 1
    assert FormVersionEvent.objects.filter(version=draft, action="published").count() == 1


@pytest.mark.django_db(transaction=True)
def test_publish_now_racing_the_beat_job_publishes_once():
    author, reviewer = FormEditorFactory(), FormEditorFactory()
    service, _v1, draft = in_review(author)
    form_version_approve(
        version=draft,
        user=reviewer,
        checksum=draft.checksum,
        note="ok",
        publish_at=in_the_future(hours=1),
    )

    def beat():
        done = form_version_publish_due(now=in_the_future(days=1))
        return "published" if done else "nothing due"

    outcomes = race(publisher(draft, reviewer), beat, beat)
    assert outcomes.count("published") == 1, outcomes
    assert FormVersion.objects.filter(service=service, status="published").count() == 1
    assert FormVersionEvent.objects.filter(version=draft, action="published").count() == 1


def test_a_scheduled_version_that_no_longer_passes_the_checks_goes_back_to_draft():
    """E.g. a field type was removed by a deploy between approval and publication."""
    service, v1 = published_service()
    broken = FormVersion.objects.create(
        service=service,
        number=2,
        status=FormVersion.Status.SCHEDULED,
        definition=definition(field("x", "colour")),
        publish_at=timezone.now() - datetime.timedelta(minutes=1),
    )
    assert form_version_publish_due() == []
    broken.refresh_from_db()
    v1.refresh_from_db()
    assert broken.status == FormVersion.Status.DRAFT and broken.publish_at is None
    assert v1.status == FormVersion.Status.PUBLISHED
    event = broken.events.get()
    assert event.action == FormVersionEvent.Action.CHANGES_REQUESTED and event.actor is None
    assert "steps[0].fields[0].type" in event.note
