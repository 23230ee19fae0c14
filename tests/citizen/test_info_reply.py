"""The citizen answers a Rückfrage on the status page: text and files, refused input reported
in the citizen's language with nothing typed lost, another citizen's request out of reach,
and the office's e-mail about the answer."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from backoffice.casework import case_transition
from submissions.info_requests import (
    InfoRequestNotAnswerable,
    info_answer_office_mail,
    info_request_answer,
)
from submissions.models import Attachment, InfoRequest, Submission, SubmissionEvent
from tests.submissions.conftest import office_setup  # noqa: F401 - fixture
from tests.submissions.info_request_support import EXE, PDF, ask, clerk_of, filed
from tests.support.staff import otp_force_login

pytestmark = pytest.mark.django_db


def citizen_client(submission: Submission, secret: str, language: str = "de") -> Client:
    """A browser session that opened the status page with reference and access code."""
    cache.clear()  # the status form's rate limit counts per client address
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    response = client.post("/status/", {"reference": submission.reference, "secret": secret})
    assert response.status_code == 200 and submission.reference in response.content.decode()
    return client


def pdf(name: str = "mietvertrag.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


@pytest.fixture
def asked(office_setup):  # noqa: F811 - the imported fixture
    submission, secret = filed(office_setup)
    clerk = clerk_of(office_setup["office"])
    info = ask(submission, clerk.user, days=10)
    return submission, secret, info, clerk


def reply_url(submission: Submission) -> str:
    return f"/status/{submission.reference}/rueckfrage/"


def test_citizen_answers_with_text_and_files_and_the_case_returns_to_work(asked):
    submission, secret, info, clerk = asked
    client = citizen_client(submission, secret)
    page = client.get(f"/status/{submission.reference}/").content.decode()
    assert "Rückfrage der Behörde" in page and "Bitte reichen Sie den Mietvertrag nach." in page
    assert 'name="info_request"' in page and 'enctype="multipart/form-data"' in page

    response = client.post(
        reply_url(submission),
        {
            "info_request": str(info.pk),
            "answer": "Anbei der Mietvertrag.\nMit freundlichen Grüßen",
            "files": [pdf(), pdf("seite2.pdf")],
        },
    )
    assert response.status_code == 302
    assert response["Location"] == f"/status/{submission.reference}/#rueckfrage"
    info.refresh_from_db()
    submission.refresh_from_db()
    assert info.answer == "Anbei der Mietvertrag.\nMit freundlichen Grüßen"
    assert info.answered_at is not None and not info.answered_late
    assert submission.status == "in_progress"
    files = Attachment.objects.filter(info_request=info)
    assert sorted(f.original_name for f in files) == ["mietvertrag.pdf", "seite2.pdf"]
    assert all(
        f.submission_id == submission.pk and f.content_type == "application/pdf" for f in files
    )
    event = SubmissionEvent.objects.get(submission=submission, kind="info_answered")
    assert (event.from_status, event.to_status) == ("info_requested", "in_progress")
    assert event.visible_to_citizen and event.actor is None

    page = client.get(f"/status/{submission.reference}/").content.decode()
    assert "Ihre Antwort ist eingegangen" in page and "seite2.pdf" in page
    assert 'name="info_request"' not in page

    # A second answer to the same request is refused clearly, and changes nothing.
    again = client.post(reply_url(submission), {"info_request": str(info.pk), "answer": "Nochmal"})
    assert again.status_code == 409
    assert "bereits beantwortet" in again.content.decode()
    info.refresh_from_db()
    assert info.answer.startswith("Anbei")

    # The clerk sees the answer and its files on the case page, and can download them.
    otp_force_login(clerk.client, clerk.user)
    case_page = clerk.client.get(f"/admin/submissions/submission/{submission.pk}/change/")
    body = case_page.content.decode()
    assert "Antwort vom" in body and "Anbei der Mietvertrag." in body
    for attachment in files:
        url = f"/admin/submissions/submission/{submission.pk}/attachment/{attachment.pk}/"
        assert url in body
        download = clerk.client.get(url)
        assert download.status_code == 200
        assert b"".join(download.streaming_content) == PDF


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("de", "passt nicht zur Dateiendung"),
        ("en", "does not match"),
    ],
)
def test_a_disguised_file_is_refused_in_the_citizens_language_and_nothing_is_lost(
    asked, language, message
):
    submission, secret, info, _clerk = asked
    client = citizen_client(submission, secret, language)
    typed = "Hier meine Antwort – mit Umlauten äöü und <b>ohne</b> Markup."
    response = client.post(
        reply_url(submission),
        {
            "info_request": str(info.pk),
            "answer": typed,
            "files": [
                SimpleUploadedFile("vertrag.pdf", EXE, content_type="application/pdf"),
                pdf("echt.pdf"),
            ],
        },
        HTTP_ACCEPT_LANGUAGE=language,
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert message in body, body[-4000:]
    assert 'id="error-summary"' in body
    # The typed text comes back (escaped), the good file is kept and listed.
    assert "Hier meine Antwort – mit Umlauten äöü und &lt;b&gt;ohne&lt;/b&gt; Markup." in body
    assert "echt.pdf" in body and 'name="delete"' in body
    info.refresh_from_db()
    assert info.answered_at is None
    assert [a.original_name for a in Attachment.objects.filter(info_request=info)] == ["echt.pdf"]
    submission.refresh_from_db()
    assert submission.status == "info_requested"

    # Sent again with the kept file and one removed: the answer goes out with what is listed.
    kept = Attachment.objects.get(info_request=info)
    response = client.post(
        reply_url(submission),
        {
            "info_request": str(info.pk),
            "answer": typed,
            "files": [pdf("neu.pdf")],
            "delete": [str(kept.pk)],
        },
    )
    assert response.status_code == 302
    info.refresh_from_db()
    assert info.answered_at is not None
    assert [a.original_name for a in info.files.all()] == ["neu.pdf"]


def test_huge_text_is_refused_with_a_message_and_kept(asked):
    submission, secret, info, _clerk = asked
    client = citizen_client(submission, secret)
    huge = "Sehr lang. " * 2000
    response = client.post(reply_url(submission), {"info_request": str(info.pk), "answer": huge})
    assert response.status_code == 200
    body = response.content.decode()
    assert "Ihre Antwort ist zu lang" in body and "10.000 Zeichen" in body
    assert huge.strip()[:200] in body
    info.refresh_from_db()
    assert info.answered_at is None


def test_an_empty_answer_is_refused(asked):
    submission, secret, info, _clerk = asked
    client = citizen_client(submission, secret)
    response = client.post(reply_url(submission), {"info_request": str(info.pk), "answer": "  "})
    assert response.status_code == 200
    assert "Bitte schreiben Sie eine Antwort oder laden Sie eine Datei hoch." in (
        response.content.decode()
    )
    info.refresh_from_db()
    assert info.answered_at is None


def test_another_citizens_request_and_forged_ids_are_out_of_reach(asked, office_setup):  # noqa: F811
    submission, secret, info, clerk = asked
    other, _other_secret = filed(office_setup)
    other_info = ask(other, clerk.user)
    client = citizen_client(submission, secret)
    # The other application's page is not this session's: 404 as for a missing one.
    assert client.get(reply_url(other)).status_code == 404
    assert (
        client.post(
            reply_url(other), {"info_request": str(other_info.pk), "answer": "x"}
        ).status_code
        == 404
    )
    # The other request's id through this application's page, and forged ids.
    for forged in (str(other_info.pk), "0", "-1", "99999999999999999999", "abc", ""):
        response = client.post(
            reply_url(submission),
            {"info_request": forged, "answer": "Untergeschoben", "files": [pdf()]},
        )
        assert response.status_code == 409, forged
        assert "Diese Rückfrage gibt es nicht." in response.content.decode()
    other_info.refresh_from_db()
    info.refresh_from_db()
    assert other_info.answered_at is None and info.answered_at is None
    assert not Attachment.objects.filter(info_request__isnull=False).exists()
    with pytest.raises(InfoRequestNotAnswerable):
        info_request_answer(submission_id=submission.pk, request_id=other_info.pk, answer="x")
    # Without the access check passed there is no page at all.
    assert Client().get(reply_url(submission)).status_code == 404


def test_no_answer_after_the_decision_or_withdrawal(asked):
    submission, secret, info, clerk = asked
    client = citizen_client(submission, secret)
    case_transition(submission=submission, to_status="approved", actor=clerk.user)
    page = client.get(f"/status/{submission.reference}/").content.decode()
    assert 'name="info_request"' not in page
    assert "Eine Antwort ist nicht mehr möglich." in page
    response = client.post(
        reply_url(submission), {"info_request": str(info.pk), "answer": "Zu spät", "files": [pdf()]}
    )
    assert response.status_code == 409
    assert "bereits entschieden oder er wurde zurückgezogen" in response.content.decode()
    info.refresh_from_db()
    assert info.answered_at is None and not info.files.exists()


def test_a_late_answer_is_taken_and_marked_late(asked):
    submission, secret, info, _clerk = asked
    InfoRequest.objects.filter(pk=info.pk).update(deadline=info.deadline.replace(year=2020))
    client = citizen_client(submission, secret)
    page = client.get(f"/status/{submission.reference}/").content.decode()
    assert "Die Frist ist abgelaufen. Sie können trotzdem noch antworten" in page
    response = client.post(reply_url(submission), {"info_request": str(info.pk), "answer": "Spät"})
    assert response.status_code == 302
    info.refresh_from_db()
    assert info.answered_late


def test_the_office_mail_goes_to_the_assignee_or_else_the_office(asked, smtp_server, office_setup):  # noqa: F811
    submission, _secret, info, clerk = asked
    clerk.user.email = "sachbearbeitung@vg-teststadt.example"
    clerk.user.save()
    Submission.objects.filter(pk=submission.pk).update(assigned_to=clerk.user)
    info_request_answer(submission_id=submission.pk, request_id=info.pk, answer="Erledigt.")
    smtp_server.messages.clear()
    assert info_answer_office_mail(info_request_id=info.pk) == "sent"
    assert info_answer_office_mail(info_request_id=info.pk) == "done"
    (mail,) = smtp_server.messages
    assert mail.rcpt_to == ["sachbearbeitung@vg-teststadt.example"]
    text = smtp_server.text_of(mail)
    assert submission.reference in mail.message["Subject"]
    assert f"/admin/submissions/submission/{submission.pk}/change/" in text
    assert "Erledigt." not in text  # the answer itself stays in the back office
    assert re.search(r"<info-answer\.", mail.message["Message-ID"])

    # Unassigned: the office's notification address.
    office = office_setup["office"]
    office.notification_email = "posteingang@vg-teststadt.example"
    office.save()
    second, _ = filed(office_setup)
    second_info = ask(second, clerk.user)
    info_request_answer(submission_id=second.pk, request_id=second_info.pk, answer="Auch.")
    assert info_answer_office_mail(info_request_id=second_info.pk) == "sent"
    assert smtp_server.messages[-1].rcpt_to == ["posteingang@vg-teststadt.example"]
