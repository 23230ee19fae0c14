"""Writes of submissions: filing a submission and the retry paths of its pipeline."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from forms_catalog.selectors import applicant_contact, calculate_fee, visible_answers
from municipalities.selectors import NoResponsibleOffice, fee_parameters, responsible_office

from .models import Attachment, Delivery, Draft, Submission, SubmissionEvent
from .pipeline import delivery_enqueue, pipeline_start
from .references import access_secret_generate, access_secret_hash, reference_generate
from .tallies import tally_submitted


class SubmissionError(Exception):
    """A draft cannot be submitted; the message is safe to show to the citizen."""


class DraftAlreadySubmitted(SubmissionError):
    pass


class InvalidAttachmentReference(SubmissionError):
    pass


def _attachment_ids(value: Any) -> Iterator[str]:
    """Every attachment id referenced anywhere in the answers (file fields, also in groups)."""
    if isinstance(value, dict):
        if "attachment_id" in value:
            yield str(value["attachment_id"])
        for item in value.values():
            yield from _attachment_ids(item)
    elif isinstance(value, list):
        for item in value:
            yield from _attachment_ids(item)


def _without_nul(value: Any) -> Any:
    """The answers with NUL characters removed: PostgreSQL cannot store them in JSON text."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dict):
        return {_without_nul(key): _without_nul(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_without_nul(item) for item in value]
    return value


def _referenced_attachments(*, draft: Draft, answers: dict) -> list[Attachment]:
    ids: set[uuid.UUID] = set()
    for raw in _attachment_ids(answers):
        try:
            ids.add(uuid.UUID(raw))
        except ValueError as exc:
            raise InvalidAttachmentReference("invalid attachment reference") from exc
    attachments = list(Attachment.objects.filter(id__in=ids, draft=draft, submission__isnull=True))
    if len(attachments) != len(ids):
        # An id of another draft's (or an already submitted) file: never move it.
        raise InvalidAttachmentReference("attachment does not belong to this draft")
    return attachments


def _create_with_unique_reference(**fields: Any) -> Submission:
    year = timezone.localdate().year
    for _attempt in range(10):
        try:
            with transaction.atomic():
                return Submission.objects.create(reference=reference_generate(year=year), **fields)
        except IntegrityError:
            # 35 random bits per year: a collision is rare, but it must never lose a submission.
            continue
    raise RuntimeError("could not find a free reference number")


def submission_submit(*, draft: Draft, answers: dict, language: str) -> tuple[Submission, str]:
    """File ``draft`` with ``answers``: returns the submission and its access secret.

    One transaction: the submission (pinned form version, Gemeinde, answers,
    contact, fee, and its responsible office: one indexed query, so the
    confirmation page can name it), its first history events, the draft's
    attachments moved to it and the draft marked submitted. If no office is
    responsible the submission is stored all the same and the pipeline's
    ``resolve_office`` step tries again (and fails visibly): nothing is lost.
    The draft row is locked, so a double click files once and the second
    call raises DraftAlreadySubmitted. The pipeline is enqueued only after
    commit. The secret is returned only here:
    only its hash is stored.

    Only what the check page showed is stored: answers of steps, groups and
    fields hidden by the final answers are pruned first, so they reach no PDF,
    export or webhook. Every attachment id in the posted answers must belong to
    the draft, but only the files still referenced after pruning move to the
    submission; the others stay with the draft and are deleted with it.
    """
    if not isinstance(answers, dict):
        raise SubmissionError("answers must be an object")
    language = language if language in {"de", "en"} else "de"
    answers = _without_nul(answers)
    with transaction.atomic():
        locked = Draft.objects.select_for_update().get(pk=draft.pk)
        if locked.submitted_at is not None:
            raise DraftAlreadySubmitted("this application has already been submitted")
        version = locked.form_version
        now = timezone.now()
        # Forged ids are refused even in hidden answers; pruned files stay with the draft.
        _referenced_attachments(draft=locked, answers=answers)
        answers = visible_answers(version=version, answers=answers)
        attachments = _referenced_attachments(draft=locked, answers=answers)
        name, email = applicant_contact(version=version, answers=answers)
        parameters = fee_parameters(service=locked.service, gemeinde=locked.gemeinde)
        # Only real amounts are recorded: an example rate is not this municipality's.
        fee = calculate_fee(version=version, answers=answers, parameters=parameters, examples=False)
        try:
            office = responsible_office(
                service=locked.service, gemeinde=locked.gemeinde, on_date=timezone.localdate(now)
            )
        except NoResponsibleOffice:
            office = None  # left to the pipeline's resolve_office step
        secret = access_secret_generate()
        submission = _create_with_unique_reference(
            access_secret_hash=access_secret_hash(secret),
            service=locked.service,
            form_version=version,
            gemeinde=locked.gemeinde,
            answers=answers,
            language=language,
            applicant_name=(name or "")[:200],
            applicant_email=email or "",
            fee_amount=fee.amount if fee is not None else None,
            status=Submission.Status.RECEIVED,
            submitted_at=now,
            pipeline_progress_at=now,
            office=office,
            office_resolved_at=now if office is not None else None,
        )
        tally_submitted(submission=submission)
        SubmissionEvent.objects.create(
            submission=submission,
            kind="submitted",
            to_status=Submission.Status.RECEIVED,
            visible_to_citizen=True,
        )
        if office is not None:
            SubmissionEvent.objects.create(
                submission=submission, kind="office_resolved", comment=office.name
            )
        Attachment.objects.filter(id__in=[a.id for a in attachments]).update(
            submission=submission, draft=None
        )
        locked.submitted_at = now
        locked.save(update_fields=["submitted_at", "updated_at"])
        transaction.on_commit(lambda: pipeline_start(submission_id=submission.pk))
    draft.submitted_at = locked.submitted_at
    return submission, secret


def submission_pipeline_retry(*, submission: Submission) -> None:
    """Restart a visibly failed pipeline (e.g. after staff added the missing office)."""
    with transaction.atomic():
        locked = Submission.objects.select_for_update().get(pk=submission.pk)
        if locked.pipeline_failed_at is None:
            return
        locked.pipeline_failed_at = None
        locked.pipeline_error = ""
        locked.pipeline_progress_at = timezone.now()
        locked.save(update_fields=["pipeline_failed_at", "pipeline_error", "pipeline_progress_at"])
        SubmissionEvent.objects.create(submission=locked, kind="pipeline_retried")
        transaction.on_commit(lambda: pipeline_start(submission_id=locked.pk))


def delivery_retry_now(*, delivery: Delivery) -> bool:
    """Give a failed or waiting delivery a new attempt now, with a fresh retry window.

    Returns False if the delivery is already delivered (nothing to do).
    """
    with transaction.atomic():
        locked = Delivery.objects.select_for_update().get(pk=delivery.pk)
        if locked.status == Delivery.Status.DELIVERED:
            return False
        now = timezone.now()
        locked.status = Delivery.Status.PENDING
        locked.failed_at = None
        locked.next_attempt_at = now
        locked.window_started_at = now
        fields = ["status", "failed_at", "next_attempt_at", "window_started_at"]
        if locked.remote_status == Delivery.RemoteStatus.REJECTED:
            # The other side refused that record for good: send a new one.
            locked.remote_id = locked.remote_case_id = locked.remote_status = ""
            locked.remote_status_at = None
            fields += ["remote_id", "remote_case_id", "remote_status", "remote_status_at"]
        locked.save(update_fields=fields)
        SubmissionEvent.objects.create(
            submission_id=locked.submission_id, kind=f"delivery_retry_{locked.channel}"
        )
        transaction.on_commit(lambda: delivery_enqueue(delivery_id=locked.pk, force=True))
    return True
