"""Status access that cannot be lost, and withdrawal by the citizen (services and HTTP).

The receipt e-mail and PDF carry a personal status link; "Zugangscode
verloren?" mails a new code to the application's own address only; the
citizen can withdraw until a decision. Real PostgreSQL, Redis, SMTP and
WeasyPrint; the mail tasks' services are called as the worker calls them
(the worker process itself: `test_access_code_mail_goes_through_the_queue_without_the_secret`).
"""

from __future__ import annotations

import base64
import datetime
import io
import json
import re

import pypdf
import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from submissions.access import access_code_mail, access_code_resend_request
from submissions.models import Submission, SubmissionEvent
from submissions.pipeline import (
    Step,
    pipeline_notify_citizen,
    pipeline_render_pdfs,
    pipeline_resolve_office,
)
from submissions.references import (
    access_secret_matches,
    reference_generate,
    status_link_token,
)
from submissions.services import submission_submit
from submissions.withdrawal import (
    OFFICE_NOTIFIED_KIND,
    WithdrawalNotPossible,
    submission_withdraw,
    withdrawal_office_mail,
)
from tests.submissions.conftest import make_answers, make_draft
from tests.support.worker import wait_until

pytestmark = pytest.mark.django_db

LINK_RE = re.compile(r"https?://[^\s/]+(/status/TH-[0-9A-Z-]+/zugang/[0-9a-f]+/)")
CODE_RE = re.compile(r"Zugangscode: ([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})")


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()


def filed(office_setup, *, email: str = "erika@example.org", language: str = "de"):
    """A submitted application whose receipt PDF is rendered: (submission, access code)."""
    submission, secret = submission_submit(
        draft=make_draft(office_setup),
        answers=make_answers(email=email, description="Geheime Angabe: Bello beißt."),
        language=language,
    )
    assert pipeline_resolve_office(submission_id=submission.pk) is Step.DONE
    assert pipeline_render_pdfs(submission_id=submission.pk) is Step.DONE
    submission.refresh_from_db()
    return submission, secret


def receipt_mail_link(smtp_server, submission) -> str:
    assert pipeline_notify_citizen(submission_id=submission.pk) is Step.DONE
    (mail,) = smtp_server.messages
    return LINK_RE.search(smtp_server.text_of(mail)).group(1)


def pdf_links(submission) -> list[str]:
    with submission.receipt_pdf.open("rb") as handle:
        reader = pypdf.PdfReader(io.BytesIO(handle.read()))
    uris = []
    for page in reader.pages:
        for annotation in page.get("/Annots") or []:
            action = annotation.get_object().get("/A") or {}
            if action.get("/URI"):
                uris.append(str(action["/URI"]))
    return uris


def status_lookup(client: Client, reference: str, secret: str) -> str:
    return client.post("/status/", {"reference": reference, "secret": secret}).content.decode()


# --- the personal status link ---------------------------------------------------------


def test_receipt_mail_and_pdf_carry_a_link_that_opens_only_this_status_page(
    office_setup, smtp_server
):
    submission, secret = filed(office_setup)
    path = receipt_mail_link(smtp_server, submission)
    body = smtp_server.text_of(smtp_server.messages[0])
    # The code itself is not in the unencrypted mail; the texts say what is really there.
    assert secret not in body and "persönlichen Link" in body
    assert any(uri.endswith(path) for uri in pdf_links(submission)), pdf_links(submission)

    citizen = Client()
    opened = citizen.get(path)
    # The token leaves the address bar at once.
    assert opened.status_code == 302 and opened["Location"] == f"/status/{submission.reference}/"
    page = citizen.get(opened["Location"]).content.decode()
    assert submission.reference in page and 'data-testid="status"' in page
    assert "Bello beißt" not in page, "the status page never shows the answers"
    # The link grants this one application only.
    other, _ = filed(office_setup)
    assert citizen.get(f"/status/{other.reference}/").status_code == 404


@pytest.mark.parametrize(
    "mangle",
    [
        lambda ref, token: f"/status/{ref}/zugang/{token[:-1]}0/",
        lambda ref, token: f"/status/{ref}/zugang/{token.upper()}/",
        lambda ref, token: f"/status/{ref}/zugang/{token}{token}/",
        lambda ref, token: f"/status/{ref.lower()}/zugang/{token}/",
        lambda ref, token: f"/status/{ref}/zugang/%00{token}/",
        lambda ref, token: f"/status/{ref}/zugang/{'0' * 32}/",
        lambda ref, token: f"/status/TH-2026-0000-0000/zugang/{token}/",
    ],
)
def test_forged_status_links_open_nothing(office_setup, mangle):
    submission, _ = filed(office_setup)
    token = status_link_token(
        reference=submission.reference, access_secret_hash=submission.access_secret_hash
    )
    client = Client()
    response = client.get(mangle(submission.reference, token))
    assert response.status_code == 404
    assert client.get(f"/status/{submission.reference}/").status_code == 404


def test_status_link_expires_after_the_decision_and_with_purged_data(office_setup, settings):
    settings.PORTAL_STATUS_LINK_DAYS = 30
    submission, _ = filed(office_setup)
    token = status_link_token(
        reference=submission.reference, access_secret_hash=submission.access_secret_hash
    )
    path = f"/status/{submission.reference}/zugang/{token}/"
    decided = timezone.now() - datetime.timedelta(days=29)
    Submission.objects.filter(pk=submission.pk).update(status="approved", decided_at=decided)
    assert Client().get(path).status_code == 302
    Submission.objects.filter(pk=submission.pk).update(decided_at=decided - datetime.timedelta(2))
    expired = Client().get(path)
    assert expired.status_code == 404
    assert "Link ungültig oder abgelaufen" in expired.content.decode()
    Submission.objects.filter(pk=submission.pk).update(decided_at=None, purged_at=timezone.now())
    assert Client().get(path).status_code == 404


# --- "Zugangscode verloren?" ----------------------------------------------------------


def test_lost_code_mails_a_new_code_and_link_to_the_applications_address_only(
    office_setup, smtp_server
):
    submission, old_secret = filed(office_setup, email="erika@example.org")
    old_link = receipt_mail_link(smtp_server, submission)
    smtp_server.messages.clear()

    client = Client()
    # An extra address in the form is ignored: the code never goes anywhere else.
    page = client.post(
        "/status/zugangscode/",
        {"reference": submission.reference.lower(), "email": "angreifer@example.org"},
    ).content.decode()
    assert 'data-testid="access-code-requested"' in page
    assert not smtp_server.messages, "sent by the e-mail queue, not inside the request"
    assert access_code_mail(submission_id=submission.pk, nonce="n1") == "sent"

    (mail,) = smtp_server.messages
    assert mail.rcpt_to == ["erika@example.org"]
    assert mail.message["Message-ID"] == f"<access-code.{submission.reference}.n1@127.0.0.1>"
    text = smtp_server.text_of(mail)
    new_secret = CODE_RE.search(text).group(1)
    new_link = LINK_RE.search(text).group(1)
    assert new_secret != old_secret and new_link != old_link
    # The old code and the receipt's link stop working; the new ones open the page.
    assert "keinen Antrag" in status_lookup(Client(), submission.reference, old_secret)
    assert Client().get(old_link).status_code == 404
    assert submission.reference in status_lookup(Client(), submission.reference, new_secret)
    assert Client().get(new_link).status_code == 302
    submission.refresh_from_db()
    assert new_secret not in str(submission.__dict__)
    assert access_secret_matches(new_secret, submission.access_secret_hash)


@pytest.mark.parametrize(
    "reference",
    ["{unknown}", "{unknown_lower}", "{mine}", "{no_mail}", "{purged}"],
)
def test_lost_code_answers_the_same_whatever_the_reference(office_setup, reference):
    mine, _ = filed(office_setup)
    no_mail, _ = filed(office_setup, email="")
    purged, _ = filed(office_setup)
    Submission.objects.filter(pk=purged.pk).update(purged_at=timezone.now())
    unknown = reference_generate(year=2026)
    reference = reference.format(
        unknown=unknown,
        unknown_lower=reference_generate(year=2025).lower(),
        mine=mine.reference,
        no_mail=no_mail.reference,
        purged=purged.reference,
    )
    page = Client().post("/status/zugangscode/", {"reference": reference}).content.decode()
    page = page.replace(reference, "REF").replace(reference.lower(), "REF")
    baseline = Client().post("/status/zugangscode/", {"reference": unknown})
    baseline = baseline.content.decode().replace(unknown, "REF")
    strip = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')
    assert strip.sub("", page) == strip.sub("", baseline)
    assert 'data-testid="access-code-requested"' in page
    # Only an application with an address gets a mail.
    assert access_code_resend_request(reference=mine.reference) is True
    assert access_code_resend_request(reference=no_mail.reference) is False
    assert access_code_resend_request(reference=purged.reference) is False


@pytest.mark.parametrize(
    "hostile",
    ["", "x" * 5000, "TH-2026-\x00-0000", "<script>alert(1)</script>", "' OR 1=1 --"],
)
def test_lost_code_refuses_malformed_references_with_a_clear_error(hostile):
    response = Client().post("/status/zugangscode/", {"reference": hostile})
    body = response.content.decode()
    assert response.status_code == 200 and "<title>Fehler:" in body
    assert "<script>alert(1)</script>" not in body
    assert 'data-testid="access-code-requested"' not in body


def test_lost_code_is_rate_limited_per_reference_and_per_client(
    office_setup, clean_broker, django_capture_on_commit_callbacks
):
    submission, _ = filed(office_setup)
    queued = []
    for n in range(4):
        client = Client(REMOTE_ADDR=f"192.0.2.{n + 1}")
        # Each client and each time the same neutral page, even over the reference's limit.
        with django_capture_on_commit_callbacks(execute=True):
            page = client.post("/status/zugangscode/", {"reference": submission.reference})
        assert page.status_code == 200 and b"access-code-requested" in page.content
        queued.append(len(clean_broker.lrange("email", 0, -1)))
    # The reference's limit stops strangers from replacing the citizen's code again and again.
    assert queued == [1, 2, 3, 3], queued
    client = Client(REMOTE_ADDR="198.51.100.7")
    statuses = [
        client.post("/status/zugangscode/", {"reference": "TH-2026-0000-0000"}).status_code
        for _ in range(6)
    ]
    assert statuses == [200] * 5 + [429], statuses


@pytest.mark.worker
def test_access_code_mail_goes_through_the_queue_without_the_secret(
    transactional_db, clean_broker, smtp_server, start_worker, office_setup
):
    submission, _ = filed(office_setup)
    clean_broker.delete("email")  # the receipt's task, enqueued with the PDFs
    Client().post("/status/zugangscode/", {"reference": submission.reference})
    (raw,) = clean_broker.lrange("email", 0, -1)
    message = json.loads(raw)
    text = raw.decode() + base64.b64decode(message["body"]).decode()
    assert message["headers"]["task"] == "submissions.tasks.notify_access_code"
    assert "erika@example.org" not in text
    before = Submission.objects.get(pk=submission.pk).access_secret_hash
    worker = start_worker(
        queues="email", env={"EMAIL_HOST": smtp_server.host, "EMAIL_PORT": str(smtp_server.port)}
    )
    wait_until(lambda: len(smtp_server.messages) >= 1, timeout=60, message=worker.log())
    secret = CODE_RE.search(smtp_server.text_of(smtp_server.messages[0])).group(1)
    assert secret not in text
    after = Submission.objects.get(pk=submission.pk).access_secret_hash
    assert after != before and access_secret_matches(secret, after)


def test_a_refused_mail_keeps_the_old_code(office_setup, smtp_server):
    submission, secret = filed(office_setup)
    smtp_server.refuse = True
    with pytest.raises(OSError):
        access_code_mail(submission_id=submission.pk, nonce="n2")
    submission.refresh_from_db()
    assert access_secret_matches(secret, submission.access_secret_hash)


# --- withdrawal ------------------------------------------------------------------------


def granted(office_setup, **kwargs) -> tuple[Submission, Client]:
    submission, secret = filed(office_setup, **kwargs)
    client = Client()
    assert submission.reference in status_lookup(client, submission.reference, secret)
    return submission, client


def test_citizen_withdraws_with_a_reason_and_the_office_is_told(office_setup, smtp_server):
    office = office_setup["office"]
    office.notification_email = "eingang@vg-teststadt.example"
    office.save()
    submission, client = granted(office_setup)
    status = client.get(f"/status/{submission.reference}/").content.decode()
    assert 'data-testid="withdraw-link"' in status
    confirm = client.get(f"/status/{submission.reference}/zurueckziehen/").content.decode()
    assert "Antrag zurückziehen?" in confirm
    # With its PDFs the case is in the office's inbox: forwarded.
    assert Submission.objects.get(pk=submission.pk).status == "forwarded", "GET changes nothing"

    reason = "Umgezogen\x07 nach <b>Erfurt</b>\u202e" + "!" * 3000
    response = client.post(f"/status/{submission.reference}/zurueckziehen/", {"reason": reason})
    # Longer than the field allows: the form says so and nothing happens.
    assert response.status_code == 200 and "<title>Fehler:" in response.content.decode()
    assert Submission.objects.get(pk=submission.pk).status == "forwarded"
    response = client.post(
        f"/status/{submission.reference}/zurueckziehen/", {"reason": reason[:300]}
    )
    assert response.status_code == 302
    submission.refresh_from_db()
    assert submission.status == "withdrawn" and submission.decided_at is not None
    event = submission.events.get(to_status="withdrawn")
    assert event.kind == "status_changed" and event.actor is None and event.visible_to_citizen
    assert event.comment.startswith("Umgezogen nach <b>Erfurt</b>") and "\x07" not in event.comment
    page = client.get(f"/status/{submission.reference}/").content.decode()
    assert "zurückgezogen" in page and "&lt;b&gt;Erfurt" in page and "<b>Erfurt" not in page
    assert 'data-testid="withdraw-link"' not in page

    smtp_server.messages.clear()
    assert withdrawal_office_mail(event_id=event.pk) == "sent"
    assert withdrawal_office_mail(event_id=event.pk) == "done"
    (mail,) = smtp_server.messages
    assert mail.rcpt_to == ["eingang@vg-teststadt.example"]
    assert mail.message["Message-ID"] == f"<withdrawal.{submission.reference}.{event.pk}@127.0.0.1>"
    assert submission.reference in smtp_server.text_of(mail)
    assert "Umgezogen nach <b>Erfurt</b>" in smtp_server.text_of(mail)
    assert submission.events.filter(kind=OFFICE_NOTIFIED_KIND).count() == 1


def test_office_without_notification_address_gets_no_mail(office_setup, smtp_server):
    submission, _ = filed(office_setup)
    smtp_server.messages.clear()
    event = submission_withdraw(submission_id=submission.pk, reason="")
    assert withdrawal_office_mail(event_id=event.pk) == "skipped"
    assert not smtp_server.messages


@pytest.mark.parametrize("decided", ["approved", "rejected", "withdrawn"])
def test_no_withdrawal_after_a_decision_or_twice(office_setup, decided):
    submission, client = granted(office_setup)
    Submission.objects.filter(pk=submission.pk).update(status=decided)
    assert 'data-testid="withdraw-link"' not in client.get(f"/status/{submission.reference}/")
    page = client.get(f"/status/{submission.reference}/zurueckziehen/").content.decode()
    assert 'data-testid="withdraw-not-possible"' in page and "withdraw-confirm" not in page
    response = client.post(f"/status/{submission.reference}/zurueckziehen/", {"reason": "x"})
    assert response.status_code == 409
    assert Submission.objects.get(pk=submission.pk).status == decided
    assert not SubmissionEvent.objects.filter(submission=submission, comment="x").exists()
    with pytest.raises(WithdrawalNotPossible):
        submission_withdraw(submission_id=submission.pk, reason="")


def test_withdrawal_needs_this_applications_session_and_csrf(office_setup):
    submission, _ = filed(office_setup)
    other, other_client = granted(office_setup)
    url = f"/status/{submission.reference}/zurueckziehen/"
    # Another application's session, a stranger and a forged reference: the same 404.
    assert other_client.get(url).status_code == 404
    assert other_client.post(url, {"reason": ""}).status_code == 404
    assert Client().post(url, {"reason": ""}).status_code == 404
    assert other_client.post("/status/TH-2026-0000-0000/zurueckziehen/").status_code == 404
    assert other_client.post("/status/%3Cscript%3E/zurueckziehen/").status_code == 404
    # Without the CSRF token nothing is withdrawn, even in the right session.
    strict = Client(enforce_csrf_checks=True)
    strict.cookies = other_client.cookies
    response = strict.post(f"/status/{other.reference}/zurueckziehen/", {"reason": ""})
    assert response.status_code == 403
    assert set(Submission.objects.values_list("status", flat=True)) == {"forwarded"}
