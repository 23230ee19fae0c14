"""The FIT-Connect channel against the local stand-in: protocol, guarantees, bad answers."""

from __future__ import annotations

import datetime
import hashlib
import logging
import time

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from django.utils import timezone
from joserfc.jwk import RSAKey

from municipalities.models import Office
from submissions.delivery import channels_for_office
from submissions.fitconnect_status import fitconnect_status_sync
from submissions.models import Attachment, Delivery
from submissions.pdf import export_json
from submissions.pipeline import Step, pipeline_deliver, pipeline_sweep
from submissions.services import delivery_retry_now
from tests.factories import SubmissionFactory
from tests.submissions.conftest import make_answers
from tests.support.staff import otp_force_login

LEIKA = "99050012104000"
OFFICE_PDF = b"%PDF-1.7\n% office copy\n%%EOF\n"
UPLOAD = b"%PDF-1.7\n% Nachweis \xc3\xa4\n%%EOF\n"


@pytest.fixture
def fc_delivery(office_setup, fitconnect, settings):
    """A filed submission with its office PDF and one upload, due over FIT-Connect."""
    settings.ADMINS = [("Plattform", "admins@portal.example")]
    service = office_setup["service"]
    service.leistungsschluessel = LEIKA
    service.save()
    office = office_setup["office"]
    for name, value in fitconnect.office_settings().items():
        setattr(office, name, value)
    office.save()
    submission = SubmissionFactory(
        form_version=office_setup["version"],
        gemeinde=office_setup["gemeinde"],
        office=office,
        office_resolved_at=timezone.now(),
        answers=make_answers(),
        reference="TH-2026-FC01-TEST",
    )
    submission.office_pdf.save("antrag.pdf", ContentFile(OFFICE_PDF), save=True)
    attachment = Attachment(
        submission=submission,
        field_path="proof",
        original_name="nachweis.pdf",
        content_type="application/pdf",
        size=len(UPLOAD),
        sha256=hashlib.sha256(UPLOAD).hexdigest(),
    )
    attachment.file.save("x", ContentFile(UPLOAD), save=False)
    attachment.save()
    now = timezone.now()
    return Delivery.objects.create(
        submission=submission, channel="fitconnect", next_attempt_at=now, window_started_at=now
    )


def attempt(delivery: Delivery) -> Delivery:
    """One task run, and the immediate follow-up a freshly created submission asks for."""
    before = Delivery.objects.get(pk=delivery.pk).remote_id
    pipeline_deliver(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    if delivery.status == "pending" and delivery.remote_id and not before:
        pipeline_deliver(delivery_id=delivery.pk)
        delivery.refresh_from_db()
    return delivery


def due_now(delivery: Delivery) -> None:
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())


@pytest.mark.django_db(transaction=True)
def test_channel_serves_only_a_fully_configured_office(office_setup, fitconnect):
    office = office_setup["office"]
    assert "fitconnect" not in channels_for_office(office=office)
    for name, value in fitconnect.office_settings().items():
        setattr(office, name, value)
    assert "fitconnect" in channels_for_office(office=office)
    office.fitconnect_client_secret = ""
    assert "fitconnect" not in channels_for_office(office=office)


@pytest.mark.django_db(transaction=True)
def test_submission_is_created_recorded_then_uploaded_encrypted_and_submitted(
    fc_delivery, fitconnect
):
    # First attempt: the submission is created and its id committed, nothing uploaded yet.
    assert pipeline_deliver(delivery_id=fc_delivery.pk) is Step.STOPPED
    fc_delivery.refresh_from_db()
    received = fitconnect.only_submission()
    assert fc_delivery.remote_id == received.submission_id
    assert fc_delivery.remote_case_id == received.case_id
    assert fc_delivery.status == "pending" and fc_delivery.attempts == 0
    assert received.uploads == [] and len(received.announced) == 3
    # The next attempt continues that submission.
    assert pipeline_deliver(delivery_id=fc_delivery.pk) is Step.DONE
    fc_delivery.refresh_from_db()
    assert fc_delivery.status == "delivered" and fc_delivery.remote_status == "submitted"
    assert len(fitconnect.submissions) == 1 and received.submitted
    assert received.uploads == received.announced
    assert received.attachment_kids == {"enc-1"}
    submission = fc_delivery.submission
    assert received.data == export_json(submission)
    contents = sorted(received.attachments.values())
    assert contents == sorted([OFFICE_PDF, UPLOAD, export_json(submission)])
    metadata = received.metadata
    assert metadata["publicServiceType"]["identifier"] == f"urn:de:fim:leika:leistung:{LEIKA}"
    assert metadata["additionalReferenceInfo"]["senderReference"] == "TH-2026-FC01-TEST"
    assert metadata["contentStructure"]["data"]["submissionSchema"]["mimeType"] == (
        "application/json"
    )
    purposes = {a["filename"]: a["purpose"] for a in metadata["contentStructure"]["attachments"]}
    assert purposes["antrag-TH-2026-FC01-TEST.pdf"] == "form"
    assert purposes["nachweis.pdf"] == "attachment"
    assert purposes["antrag-TH-2026-FC01-TEST.json"] == "report"
    # Every JWE on the wire is for the destination's key (the stand-in decrypted them all).
    puts = [entry for entry in fitconnect.log if entry[0] == "PUT"]
    assert all(status in (202, 204) for _m, _p, status in puts)


@pytest.mark.django_db(transaction=True)
def test_stand_in_down_is_retried_with_backoff_then_fails_visibly_and_retry_now_delivers(
    fc_delivery, fitconnect, smtp_server, settings
):
    settings.PORTAL_DELIVERY_BACKOFF_BASE_SECONDS = 30
    fitconnect.down = 503
    before = timezone.now()
    assert pipeline_deliver(delivery_id=fc_delivery.pk) is Step.STOPPED
    fc_delivery.refresh_from_db()
    assert fc_delivery.status == "pending" and fc_delivery.attempts == 1
    assert fc_delivery.last_status_code == 503 and "Service Unavailable" in fc_delivery.last_error
    assert 14 <= (fc_delivery.next_attempt_at - before).total_seconds() <= 31
    # The window runs out: failed, alerted, and the sweeper leaves it alone.
    long_ago = timezone.now() - datetime.timedelta(hours=24, minutes=1)
    Delivery.objects.filter(pk=fc_delivery.pk).update(
        window_started_at=long_ago, next_attempt_at=timezone.now()
    )
    pipeline_deliver(delivery_id=fc_delivery.pk)
    fc_delivery.refresh_from_db()
    assert fc_delivery.status == "failed"
    alerts = [m for m in smtp_server.messages if "admins@portal.example" in m.rcpt_to]
    assert len(alerts) == 1 and "FIT-Connect" in alerts[0].message["Subject"]
    assert pipeline_sweep()["deliveries"] == 0
    assert fitconnect.submissions == {}

    fitconnect.down = None
    assert delivery_retry_now(delivery=fc_delivery) is True
    assert attempt(fc_delivery).status == "delivered"
    assert len(fitconnect.submissions) == 1


@pytest.mark.django_db(transaction=True)
def test_a_retried_delivery_continues_its_submission_instead_of_creating_a_second(
    fc_delivery, fitconnect
):
    fitconnect.fail["submit"] = 502
    delivery = attempt(fc_delivery)
    assert delivery.status == "pending" and delivery.last_status_code == 502
    first_id = delivery.remote_id
    assert first_id
    fitconnect.fail.clear()
    due_now(delivery)
    delivery = attempt(delivery)
    assert delivery.status == "delivered" and delivery.remote_id == first_id
    assert list(fitconnect.submissions) == [first_id]


@pytest.mark.django_db(transaction=True)
def test_submitted_before_a_crash_counts_as_delivered_without_sending_again(
    fc_delivery, fitconnect
):
    delivery = attempt(fc_delivery)
    assert delivery.status == "delivered"
    # As if the worker died after the submit and before its commit.
    Delivery.objects.filter(pk=delivery.pk).update(
        status="pending", remote_status="", next_attempt_at=timezone.now()
    )
    calls = len(fitconnect.log)
    assert pipeline_deliver(delivery_id=delivery.pk) is Step.DONE
    delivery.refresh_from_db()
    assert delivery.status == "delivered" and delivery.remote_status == "submitted"
    assert not [e for e in fitconnect.log[calls:] if e[0] in ("PUT", "POST") and e[1] != "/token"]
    assert len(fitconnect.submissions) == 1


@pytest.mark.django_db(transaction=True)
def test_token_is_cached_and_renewed_once_on_401(fc_delivery, fitconnect):
    delivery = attempt(fc_delivery)
    assert delivery.status == "delivered"
    assert fitconnect.token_requests == 1  # one token for every call of both attempts
    fitconnect.revoke_tokens()  # expired on the server's side
    fitconnect.accept(delivery.remote_id)
    assert fitconnect_status_sync() == {"accepted": 1}
    assert fitconnect.token_requests == 2


@pytest.mark.django_db(transaction=True)
def test_a_401_after_a_fresh_token_is_a_failed_attempt_not_a_loop(fc_delivery, fitconnect):
    fitconnect.fail["destination"] = 401
    delivery = attempt(fc_delivery)
    assert delivery.status == "pending" and delivery.last_status_code == 401
    assert "Unauthorized" in delivery.last_error
    assert fitconnect.token_requests == 2  # the first, and one renewal


@pytest.mark.django_db(transaction=True)
def test_token_is_renewed_before_it_runs_out(fc_delivery, fitconnect):
    fitconnect.token_lifetime = 31  # usable for 1 s after our safety margin
    delivery = attempt(fc_delivery)
    assert delivery.status == "delivered"
    before = fitconnect.token_requests
    time.sleep(1.2)
    fitconnect.accept(delivery.remote_id)
    assert fitconnect_status_sync() == {"accepted": 1}
    assert fitconnect.token_requests == before + 1
    assert not [entry for entry in fitconnect.log if entry[2] == 401]


@pytest.mark.django_db(transaction=True)
def test_bad_client_credentials_are_a_clear_retried_401(fc_delivery, fitconnect):
    Office.objects.filter(pk=fc_delivery.submission.office_id).update(
        fitconnect_client_secret="wrong"
    )
    delivery = attempt(fc_delivery)
    assert delivery.status == "pending" and delivery.last_status_code == 401
    assert (
        "FIT-Connect-Anmeldung" in delivery.last_error and "invalid_client" in delivery.last_error
    )


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("operation", "status"), [("destination", 403), ("create", 500), ("upload", 503)]
)
def test_403_and_5xx_are_clear_retried_failures_that_lose_nothing(
    fc_delivery, fitconnect, operation, status
):
    fitconnect.fail[operation] = status
    delivery = attempt(fc_delivery)
    assert delivery.status == "pending" and delivery.last_status_code == status
    assert f"HTTP {status}" in delivery.last_error
    fitconnect.fail.clear()
    due_now(delivery)
    assert attempt(delivery).status == "delivered"
    assert len(fitconnect.submissions) == 1


@pytest.mark.django_db(transaction=True)
def test_key_rotated_between_create_and_upload_uses_the_new_key(fc_delivery, fitconnect):
    pipeline_deliver(delivery_id=fc_delivery.pk)  # created with enc-1 current
    fitconnect.encryption_kid = "enc-2"
    assert pipeline_deliver(delivery_id=fc_delivery.pk) is Step.DONE
    received = fitconnect.only_submission()
    assert received.submitted and received.attachment_kids == {"enc-2"}


def _public(key: RSAKey, **extra) -> dict:
    public = key.as_dict(private=False)
    return {"kty": "RSA", "kid": "enc-1", "n": public["n"], "e": public["e"], **extra}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("served", "message"),
    [
        ("garbage", "ungültig"),
        ("wrong-use", "nicht zur Verschlüsselung"),
        ("short", "zu kurz (2048 statt mindestens 4096 Bit)"),
        ("private", "ungültig"),
    ],
)
def test_bad_keys_are_refused_before_anything_is_sent(
    fc_delivery, fitconnect, fitconnect_keys, served, message
):
    short = RSAKey.generate_key(2048)
    fitconnect.served_key = {
        "garbage": {"kty": "RSA", "kid": "enc-1", "n": "%%%", "e": 7, "key_ops": ["wrapKey"]},
        "wrong-use": _public(fitconnect_keys.encryption, key_ops=["verify"], use="sig"),
        "short": _public(short, key_ops=["wrapKey"]),
        "private": {
            **fitconnect_keys.encryption.as_dict(private=True),
            "kid": "enc-1",
            "key_ops": ["wrapKey"],
        },
    }[served]
    delivery = attempt(fc_delivery)
    assert delivery.status == "pending" and delivery.attempts == 1
    assert message in delivery.last_error
    assert fitconnect.submissions == {}


@pytest.mark.django_db(transaction=True)
def test_inactive_destination_is_a_clear_retried_failure(fc_delivery, fitconnect):
    fitconnect.destination_status = "inactive"
    delivery = attempt(fc_delivery)
    assert delivery.status == "pending"
    assert "nicht aktiv" in delivery.last_error and "'inactive'" in delivery.last_error
    assert fitconnect.submissions == {}


@pytest.mark.django_db(transaction=True)
def test_service_not_offered_by_the_destination_is_refused(fc_delivery, fitconnect):
    fitconnect.services = ["urn:de:fim:leika:leistung:99000000000000"]
    delivery = attempt(fc_delivery)
    assert delivery.status == "pending" and "nimmt die Leistung" in delivery.last_error


@pytest.mark.django_db(transaction=True)
def test_set_with_a_bad_signature_is_ignored_and_alerted_never_applied(
    fc_delivery, fitconnect, fitconnect_keys, caplog
):
    delivery = attempt(fc_delivery)
    assert delivery.remote_status == "submitted"
    fitconnect.emit(delivery.remote_id, "accept-submission", key=fitconnect_keys.forger)
    # Tampered: a real signature over other claims.
    genuine = fitconnect.reject(delivery.remote_id, [{"title": "x"}])
    header, payload, signature = genuine.split(".")
    fitconnect.only_submission().events[-1] = ".".join([header, payload[:-4] + "AAAA", signature])
    with caplog.at_level(logging.ERROR, logger="submissions.delivery.fitconnect"):
        assert fitconnect_status_sync() == {"waiting": 1}
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 2 and all("rejected and ignored" in r.getMessage() for r in errors)
    delivery.refresh_from_db()
    assert delivery.remote_status == "submitted" and delivery.status == "delivered"
    assert not delivery.submission.events.filter(kind__startswith="fitconnect_").exists()
    # The genuine answer that follows is applied.
    fitconnect.accept(delivery.remote_id)
    assert fitconnect_status_sync() == {"accepted": 1}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("kid", ["office-sig-1", "not-published", "../../submissions"])
def test_answer_signed_by_a_key_the_office_does_not_hold_is_ignored(
    fc_delivery, fitconnect, caplog, kid
):
    delivery = attempt(fc_delivery)
    stranger = RSAKey.import_key(
        {
            k: v
            for k, v in RSAKey.generate_key(2048).as_dict(private=True).items()
            if k not in {"key_ops", "use", "kid"}
        }
        | {"kid": kid}
    )
    fitconnect.emit(delivery.remote_id, "reject-submission", {"problems": []}, key=stranger)
    with caplog.at_level(logging.ERROR):
        assert fitconnect_status_sync() == {"waiting": 1}
    assert "rejected and ignored" in caplog.text
    delivery.refresh_from_db()
    assert delivery.remote_status == "submitted" and delivery.status == "delivered"


@pytest.mark.django_db(transaction=True)
def test_event_about_another_case_is_not_applied(fc_delivery, fitconnect, caplog):
    delivery = attempt(fc_delivery)
    received = fitconnect.only_submission()
    # Validly signed, but about another case, served in this case's log.
    received.case_id, real_case = "00000000-0000-0000-0000-000000000000", received.case_id
    token = fitconnect.accept(delivery.remote_id)
    received.case_id = real_case
    assert received.events[-1] == token
    with caplog.at_level(logging.ERROR):
        assert fitconnect_status_sync() == {"waiting": 1}
    assert "another case" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_rejection_then_retry_now_sends_a_new_submission(
    fc_delivery, fitconnect, smtp_server, admin_user
):
    delivery = attempt(fc_delivery)
    first = delivery.remote_id
    fitconnect.reject(first, [{"title": "Schema", "detail": "Daten unlesbar"}])
    assert fitconnect_status_sync() == {"rejected": 1}
    delivery.refresh_from_db()
    assert delivery.status == "failed" and delivery.remote_problems == "Schema: Daten unlesbar"
    assert fitconnect_status_sync() == {}  # nothing is waiting any more
    admin = otp_force_login(Client(), admin_user)
    page = admin.get(f"/admin/submissions/delivery/{delivery.pk}/change/").content.decode()
    assert "Schema: Daten unlesbar" in page and first in page
    assert 'name="remote_id"' not in page  # the record of the other side is not editable
    assert delivery_retry_now(delivery=delivery) is True
    delivery = attempt(delivery)
    assert delivery.status == "delivered" and delivery.remote_id != first
    assert len(fitconnect.submissions) == 2


@pytest.mark.django_db(transaction=True)
def test_event_log_down_is_logged_and_tried_again_next_time(fc_delivery, fitconnect):
    delivery = attempt(fc_delivery)
    fitconnect.fail["events"] = 500
    assert fitconnect_status_sync() == {"error": 1}
    fitconnect.fail.clear()
    fitconnect.accept(delivery.remote_id)
    assert fitconnect_status_sync() == {"accepted": 1}


@pytest.mark.django_db(transaction=True)
def test_admin_never_shows_the_client_secret_and_keeps_it_when_left_empty(
    office_setup, fitconnect, admin_user
):
    office = office_setup["office"]
    for name, value in fitconnect.office_settings().items():
        setattr(office, name, value)
    office.save()
    client = otp_force_login(Client(), admin_user)
    url = f"/admin/municipalities/office/{office.pk}/change/"
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert fitconnect.client_secret not in html
    assert fitconnect.destination_id in html
    data = {
        "name": "VG Teststadt (neu)",
        "kind": office.kind,
        "verband": office.verband_id,
        "is_active": "on",
        "street": office.street,
        "postcode": office.postcode,
        "city": office.city,
        **fitconnect.office_settings(),
        "fitconnect_client_secret": "",
    }
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    office.refresh_from_db()
    assert office.name == "VG Teststadt (neu)"
    assert office.fitconnect_client_secret == fitconnect.client_secret
    data["fitconnect_client_secret"] = "neues-secret"
    client.post(url, data)
    office.refresh_from_db()
    assert office.fitconnect_client_secret == "neues-secret"
    assert "neues-secret" not in client.get(url).content.decode()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("forged", ["..", "../../destinations/x", "a" * 65, 12345, None])
def test_a_forged_submission_id_is_never_recorded_or_used_in_a_url(fc_delivery, fitconnect, forged):
    fitconnect.created_id = forged if forged is not None else ""
    delivery = attempt(fc_delivery)
    assert delivery.status == "pending" and delivery.remote_id == ""
    assert "keine gültige submissionId" in delivery.last_error
    assert not [entry for entry in fitconnect.log if entry[0] == "PUT"]
