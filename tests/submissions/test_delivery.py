"""Delivery channels and their retry bookkeeping, against real local servers."""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
import threading
import time
from pathlib import Path

import jsonschema
import pytest
from django.db import connection
from django.utils import timezone

from submissions.models import Delivery, Submission
from submissions.pipeline import Step, pipeline_deliver, pipeline_sweep, retry_delay
from submissions.services import delivery_retry_now
from tests.factories import SubmissionFactory
from tests.submissions.conftest import make_answers

SCHEMA = json.loads(
    (
        Path(__file__).resolve().parents[2] / "submissions/schemas/webhook-payload.schema.json"
    ).read_text()
)
SECRET = "office-webhook-secret-äöü"


@pytest.fixture
def smtp_settings(settings, smtp_server):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = smtp_server.host
    settings.EMAIL_PORT = smtp_server.port
    settings.ADMINS = [("Plattform", "admins@portal.example")]
    return smtp_server


def delivery_for(office_setup, channel: str, **office_fields) -> Delivery:
    office = office_setup["office"]
    for key, value in office_fields.items():
        setattr(office, key, value)
    office.save()
    submission = SubmissionFactory(
        form_version=office_setup["version"],
        gemeinde=office_setup["gemeinde"],
        office=office,
        office_resolved_at=timezone.now(),
        answers=make_answers(),
        reference="TH-2026-7K3M-Q9XD",
        applicant_name="Erika Mustermann",
        applicant_email="erika@example.org",
    )
    now = timezone.now()
    return Delivery.objects.create(
        submission=submission, channel=channel, next_attempt_at=now, window_started_at=now
    )


def verify(request, secret: str) -> bool:
    timestamp = request.headers["X-Portal-Timestamp"]
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + request.body, hashlib.sha256)
    return hmac.compare_digest(request.headers["X-Portal-Signature"], f"sha256={mac.hexdigest()}")


@pytest.mark.django_db(transaction=True)
def test_webhook_posts_signed_json_that_matches_the_documented_schema(
    office_setup, webhook_receiver
):
    delivery = delivery_for(
        office_setup, "webhook", webhook_url=webhook_receiver.url, webhook_secret=SECRET
    )
    assert pipeline_deliver(delivery_id=delivery.pk) is Step.DONE

    assert len(webhook_receiver.requests) == 1
    request = webhook_receiver.requests[0]
    assert verify(request, SECRET)
    assert not verify(request, "wrong-secret")
    assert request.headers["Idempotency-Key"] == str(delivery.pk)
    assert request.headers["Content-Type"].startswith("application/json")
    body = json.loads(request.body)
    jsonschema.validate(body, SCHEMA, format_checker=jsonschema.FormatChecker())
    assert body["reference"] == "TH-2026-7K3M-Q9XD"
    assert body["delivery_id"] == str(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == "delivered" and delivery.attempts == 1
    assert delivery.last_status_code == 200
    # Idempotent: a second run of the same step posts nothing.
    assert pipeline_deliver(delivery_id=delivery.pk) is Step.STOPPED
    assert len(webhook_receiver.requests) == 1


@pytest.mark.django_db(transaction=True)
def test_tampered_body_fails_verification(office_setup, webhook_receiver):
    delivery = delivery_for(
        office_setup, "webhook", webhook_url=webhook_receiver.url, webhook_secret=SECRET
    )
    pipeline_deliver(delivery_id=delivery.pk)
    request = webhook_receiver.requests[0]
    request.body = request.body.replace(b"Erika", b"Mallory")
    assert not verify(request, SECRET)


@pytest.mark.django_db(transaction=True)
def test_webhook_down_is_retried_with_backoff_and_then_delivered(
    office_setup, webhook_receiver, settings
):
    settings.PORTAL_DELIVERY_BACKOFF_BASE_SECONDS = 30
    delivery = delivery_for(
        office_setup, "webhook", webhook_url=webhook_receiver.url, webhook_secret=SECRET
    )
    webhook_receiver.status = 503
    before = timezone.now()
    assert pipeline_deliver(delivery_id=delivery.pk) is Step.STOPPED
    delivery.refresh_from_db()
    assert delivery.status == "pending"
    assert delivery.attempts == 1 and delivery.last_status_code == 503
    assert "503" in delivery.last_error
    wait = (delivery.next_attempt_at - before).total_seconds()
    assert 14 <= wait <= 31
    # Not due yet: a stale duplicate task does nothing.
    assert pipeline_deliver(delivery_id=delivery.pk) is Step.STOPPED
    assert len(webhook_receiver.requests) == 1

    webhook_receiver.status = 200
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    assert pipeline_deliver(delivery_id=delivery.pk) is Step.DONE
    delivery.refresh_from_db()
    assert delivery.status == "delivered" and delivery.attempts == 2
    assert len(webhook_receiver.acknowledged()) == 1


@pytest.mark.django_db(transaction=True)
def test_webhook_redirect_is_a_failure_not_followed(office_setup, webhook_receiver):
    delivery = delivery_for(
        office_setup, "webhook", webhook_url=webhook_receiver.url, webhook_secret=SECRET
    )
    webhook_receiver.status = 302
    pipeline_deliver(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == "pending" and delivery.last_status_code == 302


@pytest.mark.django_db(transaction=True)
def test_after_the_retry_window_the_delivery_fails_admins_are_alerted_and_retry_now_works(
    office_setup, webhook_receiver, smtp_settings
):
    delivery = delivery_for(
        office_setup, "webhook", webhook_url=webhook_receiver.url, webhook_secret=SECRET
    )
    webhook_receiver.status = 500
    long_ago = timezone.now() - datetime.timedelta(hours=24, minutes=1)
    Delivery.objects.filter(pk=delivery.pk).update(window_started_at=long_ago, attempts=20)
    pipeline_deliver(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == "failed" and delivery.failed_at is not None
    alerts = [m for m in smtp_settings.messages if "admins@portal.example" in m.rcpt_to]
    assert len(alerts) == 1
    assert "TH-2026-7K3M-Q9XD" in alerts[0].message["Subject"]
    assert delivery.submission.events.filter(kind="delivery_failed_webhook").exists()
    # A failed delivery is left alone by the sweeper ...
    assert pipeline_sweep()["deliveries"] == 0

    webhook_receiver.status = 200
    assert delivery_retry_now(delivery=delivery) is True
    delivery.refresh_from_db()
    assert delivery.status == "pending" and delivery.window_started_at > long_ago
    assert pipeline_deliver(delivery_id=delivery.pk) is Step.DONE
    delivery.refresh_from_db()
    assert delivery.status == "delivered"
    assert delivery_retry_now(delivery=delivery) is False


@pytest.mark.django_db(transaction=True)
def test_two_workers_running_the_same_delivery_post_once(office_setup, webhook_receiver):
    delivery = delivery_for(
        office_setup, "webhook", webhook_url=webhook_receiver.url, webhook_secret=SECRET
    )
    webhook_receiver.hold = threading.Event()
    results: list[Step] = []

    def run() -> None:
        try:
            results.append(pipeline_deliver(delivery_id=delivery.pk))
        finally:
            connection.close()

    first = threading.Thread(target=run)
    first.start()
    assert webhook_receiver.held.wait(10)
    second = threading.Thread(target=run)
    second.start()
    second.join(10)
    assert results == [Step.BUSY]  # the second skipped the locked row at once
    webhook_receiver.hold.set()
    first.join(10)
    assert sorted(r.value for r in results) == ["busy", "done"]
    assert len(webhook_receiver.requests) == 1


@pytest.mark.django_db(transaction=True)
def test_office_email_links_to_the_case_without_personal_data(office_setup, smtp_settings):
    delivery = delivery_for(office_setup, "email", notification_email="eingang@vg.example")
    assert pipeline_deliver(delivery_id=delivery.pk) is Step.DONE
    (mail,) = smtp_settings.messages
    assert mail.rcpt_to == ["eingang@vg.example"]
    body = mail.message.get_content()
    assert f"/admin/submissions/submission/{delivery.submission_id}/change/" in body
    assert "TH-2026-7K3M-Q9XD" in body
    for personal in ["Erika", "Mustermann", "erika@example.org", "Bello", "Dackel"]:
        assert personal not in body
        assert personal not in mail.message["Subject"]


@pytest.mark.django_db(transaction=True)
def test_smtp_down_is_a_retried_attempt(office_setup, smtp_settings):
    delivery = delivery_for(office_setup, "email", notification_email="eingang@vg.example")
    smtp_settings.refuse = True
    assert pipeline_deliver(delivery_id=delivery.pk) is Step.STOPPED
    delivery.refresh_from_db()
    assert delivery.status == "pending" and "SMTP" in delivery.last_error


@pytest.mark.django_db(transaction=True)
def test_inbox_needs_the_office_copy_then_marks_the_case_forwarded(office_setup):
    delivery = delivery_for(office_setup, "inbox")
    assert pipeline_deliver(delivery_id=delivery.pk) is Step.STOPPED  # no PDF yet
    submission = delivery.submission
    Submission.objects.filter(pk=submission.pk).update(office_pdf="pdfs/x/antrag.pdf")
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    assert pipeline_deliver(delivery_id=delivery.pk) is Step.DONE
    submission.refresh_from_db()
    assert submission.status == Submission.Status.FORWARDED
    assert submission.delivered_at is not None
    assert submission.events.filter(to_status="forwarded", visible_to_citizen=True).exists()


def test_backoff_grows_exponentially_with_jitter_and_is_capped(settings):
    settings.PORTAL_DELIVERY_BACKOFF_BASE_SECONDS = 30
    settings.PORTAL_DELIVERY_BACKOFF_MAX_SECONDS = 3600
    for attempts, upper in [(1, 30), (2, 60), (3, 120), (8, 3600), (40, 3600), (10_000, 3600)]:
        delays = [retry_delay(attempts=attempts) for _ in range(200)]
        assert all(upper / 2 <= d <= upper for d in delays), (attempts, min(delays), max(delays))
        assert len({round(d, 3) for d in delays}) > 50  # jittered
    # Attempts over 24 h with the default settings: more than a handful, spread over the day.
    total, attempts = 0.0, 0
    while total < 24 * 3600:
        attempts += 1
        total += retry_delay(attempts=attempts)
    assert 25 <= attempts <= 60


@pytest.mark.django_db(transaction=True)
def test_sweeper_skips_a_delivery_in_flight_instead_of_waiting_for_it(
    office_setup, webhook_receiver, settings, clean_broker
):
    settings.PORTAL_STEP_UNCLAIMED_SECONDS = 0
    delivery = delivery_for(
        office_setup, "webhook", webhook_url=webhook_receiver.url, webhook_secret=SECRET
    )
    webhook_receiver.hold = threading.Event()

    def run() -> None:
        try:
            pipeline_deliver(delivery_id=delivery.pk)
        finally:
            connection.close()

    attempt = threading.Thread(target=run)
    attempt.start()
    try:
        assert webhook_receiver.held.wait(10)
        started = time.monotonic()
        result = pipeline_sweep()
        assert time.monotonic() - started < 5
        assert result["deliveries"] == 0
    finally:
        webhook_receiver.hold.set()
        attempt.join(10)
    delivery.refresh_from_db()
    assert delivery.status == "delivered"


@pytest.mark.django_db(transaction=True)
def test_a_webhook_that_does_not_answer_in_time_is_a_failed_attempt(
    office_setup, webhook_receiver, settings
):
    settings.PORTAL_WEBHOOK_TIMEOUT_SECONDS = 1
    delivery = delivery_for(
        office_setup, "webhook", webhook_url=webhook_receiver.url, webhook_secret=SECRET
    )
    webhook_receiver.hold = threading.Event()
    webhook_receiver.hold_timeout = 5
    started = time.monotonic()
    try:
        assert pipeline_deliver(delivery_id=delivery.pk) is Step.STOPPED
    finally:
        webhook_receiver.hold.set()
    assert time.monotonic() - started < 4
    delivery.refresh_from_db()
    assert delivery.status == "pending" and delivery.attempts == 1
    assert "timed out" in delivery.last_error
