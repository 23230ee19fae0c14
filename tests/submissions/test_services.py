"""Filing a submission: one transaction, once per draft, attachments moved, secret hashed."""

from __future__ import annotations

import hashlib
import threading
import uuid

import pytest
from django.core.files.base import ContentFile
from django.db import connection

from citizen.selectors import submission_for_citizen
from submissions.models import Attachment, Submission, SubmissionEvent
from submissions.references import reference_is_valid
from submissions.services import (
    DraftAlreadySubmitted,
    InvalidAttachmentReference,
    submission_submit,
)
from tests.submissions.conftest import make_answers, make_draft


def make_attachment(draft, *, name="Nachweis.pdf") -> Attachment:
    content = b"%PDF-1.4 test"
    return Attachment.objects.create(
        draft=draft,
        field_path="proof",
        file=ContentFile(content, name="upload"),
        original_name=name,
        content_type="application/pdf",
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
    )


def file_answer(attachment: Attachment) -> list[dict]:
    return [
        {
            "attachment_id": str(attachment.id),
            "name": attachment.original_name,
            "size": attachment.size,
            "content_type": attachment.content_type,
        }
    ]


@pytest.mark.django_db(transaction=True)
def test_submit_creates_the_submission_its_event_and_moves_attachments(office_setup):
    draft = make_draft(office_setup)
    attachment = make_attachment(draft)
    stray = make_attachment(draft, name="verworfen.pdf")  # uploaded, then removed by the citizen
    answers = make_answers(proof=file_answer(attachment))

    submission, secret = submission_submit(draft=draft, answers=answers, language="en")

    submission.refresh_from_db()
    assert reference_is_valid(submission.reference)
    assert submission.status == Submission.Status.RECEIVED
    assert submission.form_version == office_setup["version"]
    assert submission.gemeinde == office_setup["gemeinde"]
    assert submission.answers == answers
    assert submission.language == "en"
    assert submission.applicant_name == "Erika Mustermann"
    assert submission.applicant_email == "erika@example.org"
    # Resolved in the submit transaction: the confirmation page can name it.
    assert submission.office == office_setup["office"]
    assert submission.office_resolved_at == submission.submitted_at
    assert secret not in submission.access_secret_hash
    events = list(SubmissionEvent.objects.filter(submission=submission).order_by("pk"))
    assert [(e.kind, e.to_status, e.visible_to_citizen) for e in events] == [
        ("submitted", "received", True),
        ("office_resolved", "", False),
    ]
    attachment.refresh_from_db()
    stray.refresh_from_db()
    assert attachment.submission == submission and attachment.draft is None
    assert stray.submission is None and stray.draft == draft
    draft.refresh_from_db()
    assert draft.submitted_at is not None
    assert submission_for_citizen(reference=submission.reference, secret=secret) == submission


@pytest.mark.django_db(transaction=True)
def test_second_submit_of_the_same_draft_is_refused(office_setup):
    draft = make_draft(office_setup)
    submission_submit(draft=draft, answers=make_answers(), language="de")
    with pytest.raises(DraftAlreadySubmitted):
        submission_submit(draft=draft, answers=make_answers(), language="de")
    assert Submission.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_double_click_from_two_requests_at_once_files_exactly_once(office_setup):
    draft = make_draft(office_setup)
    barrier = threading.Barrier(4)
    outcomes: list[str] = []

    def click() -> None:
        try:
            barrier.wait()
            submission_submit(draft=draft, answers=make_answers(), language="de")
            outcomes.append("filed")
        except DraftAlreadySubmitted:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=click) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes) == ["filed", "refused", "refused", "refused"]
    assert Submission.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_forged_attachment_of_another_draft_is_refused_and_nothing_is_filed(office_setup):
    mine = make_draft(office_setup)
    other = make_draft(office_setup)
    foreign = make_attachment(other)
    with pytest.raises(InvalidAttachmentReference):
        submission_submit(
            draft=mine, answers=make_answers(proof=file_answer(foreign)), language="de"
        )
    forged = [{"attachment_id": "not-a-uuid", "name": "x", "size": 1, "content_type": "x"}]
    with pytest.raises(InvalidAttachmentReference):
        submission_submit(draft=mine, answers=make_answers(proof=forged), language="de")
    random_id = [{"attachment_id": str(uuid.uuid4()), "name": "x", "size": 1, "content_type": "x"}]
    with pytest.raises(InvalidAttachmentReference):
        submission_submit(draft=mine, answers=make_answers(proof=random_id), language="de")
    assert Submission.objects.count() == 0
    foreign.refresh_from_db()
    assert foreign.draft == other and foreign.submission is None
    mine.refresh_from_db()
    assert mine.submitted_at is None


@pytest.mark.django_db(transaction=True)
def test_hostile_answers_are_stored_without_nul_and_unknown_language_falls_back(office_setup):
    draft = make_draft(office_setup)
    answers = make_answers(
        description="<script>alert(1)</script>\x00\x1b[31m" + "ü" * 10_000,
        name="Robert'); DROP TABLE students;--",
    )
    submission, _secret = submission_submit(draft=draft, answers=answers, language="xx")
    submission.refresh_from_db()
    assert submission.answers["description"].startswith("<script>alert(1)</script>\x1b[31m")
    assert submission.language == "de"


@pytest.mark.django_db(transaction=True)
def test_citizen_selector_needs_the_right_secret(office_setup):
    submission, secret = submission_submit(
        draft=make_draft(office_setup), answers=make_answers(), language="de"
    )
    other, other_secret = submission_submit(
        draft=make_draft(office_setup), answers=make_answers(), language="de"
    )
    assert submission_for_citizen(reference=submission.reference.lower(), secret=secret.lower())
    assert submission_for_citizen(reference=submission.reference, secret=other_secret) is None
    assert submission_for_citizen(reference=other.reference, secret=secret) is None
    for reference, key in [
        (None, secret),
        (submission.reference, None),
        ("TH-2026-0000-0000", secret),
        (submission.reference, ""),
        ({"$ne": 1}, secret),
        (submission.reference, "A" * 100_000),
    ]:
        assert submission_for_citizen(reference=reference, secret=key) is None


@pytest.mark.django_db(transaction=True)
def test_a_reference_that_is_already_taken_is_drawn_again(office_setup, monkeypatch):
    first, _ = submission_submit(
        draft=make_draft(office_setup), answers=make_answers(), language="de"
    )
    taken_body = first.reference.replace("-", "")[6:13]  # the 7 random characters
    # The randomness source replays the taken reference once, then gives fresh characters.
    script = iter(["A"] * 16 + list(taken_body) + list("ZZZZZZZ"))
    monkeypatch.setattr("submissions.references.secrets.choice", lambda alphabet: next(script, "Q"))
    second, _ = submission_submit(
        draft=make_draft(office_setup), answers=make_answers(), language="de"
    )
    assert second.reference != first.reference
    assert second.reference.replace("-", "")[6:13] == "ZZZZZZZ"
    assert reference_is_valid(second.reference)
    assert Submission.objects.count() == 2
