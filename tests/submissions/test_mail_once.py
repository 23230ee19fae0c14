"""Each e-mail is sent once, and a rare repeat is recognisable by its Message-ID.

Found in a chaos run: a worker killed after the mail server accepted a message
but before the step committed sent that office e-mail or receipt again. Here
the real local SMTP server holds its answer to QUIT (a slow goodbye after the
"250"), and the worker is SIGKILLed while it waits there.
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.utils import timezone

from backoffice.casework import case_transition
from backoffice.models import StatusNotification
from backoffice.notifications import case_notify_citizen
from submissions.models import Delivery, Submission, SubmissionEvent
from submissions.pipeline import (
    pipeline_deliver,
    pipeline_fail,
    pipeline_notify_citizen,
    pipeline_prepare_deliveries,
    pipeline_render_pdfs,
    pipeline_resolve_office,
)
from tests.submissions import test_pipeline_worker as pipeline_worker
from tests.submissions.test_pipeline_worker import all_done, submit
from tests.support.worker import wait_until

DOMAIN = "antrag.thueringen.example"
OFFICE_ADDRESS = "eingang@vg-teststadt.example"

pipeline_env = pipeline_worker.pipeline_env
fast_sweeper = pipeline_worker.fast_sweeper


def message_id(message) -> str:
    # A long Message-ID is folded onto its own line; the whitespace is not part of it.
    return str(message["Message-ID"]).strip()


def mails_to(smtp_server, address: str, reference: str) -> list:
    return [
        m.message
        for m in smtp_server.messages
        if m.rcpt_to == [address] and reference in m.message["Subject"]
    ]


@pytest.mark.worker
def test_worker_killed_after_the_server_accepted_sends_receipt_and_office_mail_once(
    office_setup, pipeline_env, start_worker, fast_sweeper, smtp_server
):
    office = office_setup["office"]
    office.notification_email = OFFICE_ADDRESS
    office.save()
    env = {**pipeline_env, "PORTAL_BASE_URL": f"https://{DOMAIN}"}
    submissions = submit(office_setup, 1)
    submission = submissions[0]
    kills = 0
    for _round in range(4):
        smtp_server.hold_quit = threading.Event()
        smtp_server.quit_held.clear()
        worker = start_worker(env=env)
        wait_until(
            lambda: smtp_server.quit_held.is_set() or all_done(submissions, sweep=True),
            timeout=90,
            interval=0.3,
            message=f"the pipeline neither sent nor finished:\n{worker.log()}",
        )
        if not smtp_server.quit_held.is_set():
            worker.stop()
            break
        # The message is accepted ("250"); the worker waits for the goodbye. Crash now.
        worker.kill()
        kills += 1
        smtp_server.hold_quit.set()
    smtp_server.hold_quit = None
    # Both e-mails were cut off after their 250 once: the window was exercised.
    assert kills == 2, f"{kills} kills"
    assert all_done(submissions, sweep=True)
    submission.refresh_from_db()
    receipts = mails_to(smtp_server, submission.applicant_email, submission.reference)
    notices = mails_to(smtp_server, OFFICE_ADDRESS, submission.reference)
    assert len(receipts) == 1, [message_id(m) for m in receipts]
    assert len(notices) == 1, [message_id(m) for m in notices]
    assert message_id(receipts[0]) == f"<receipt.{submission.reference}@{DOMAIN}>"
    email_delivery = submission.deliveries.get(channel=Delivery.Channel.EMAIL)
    assert message_id(notices[0]) == (
        f"<office-notice.{submission.reference}.{email_delivery.pk}@{DOMAIN}>"
    )
    # The bookkeeping the crash cut off was completed, once.
    assert submission.delivered_at is not None
    kinds = list(submission.events.values_list("kind", flat=True))
    assert kinds.count("delivered_email") == 1
    assert kinds.count("delivered_inbox") == 1
    assert kinds.count("citizen_notified") == 1
    connection.close()


@pytest.fixture
def smtp_settings(settings, smtp_server):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = smtp_server.host
    settings.EMAIL_PORT = smtp_server.port
    settings.PORTAL_BASE_URL = f"https://{DOMAIN}"
    settings.ADMINS = [("Platform", "admins@portal.example")]
    return settings


@pytest.fixture
def processed(office_setup, smtp_settings, django_capture_on_commit_callbacks):
    """A submission whose pipeline ran in this process up to the deliveries."""
    office = office_setup["office"]
    office.notification_email = OFFICE_ADDRESS
    office.save()
    submission = submit(office_setup, 1)[0]
    pipeline_resolve_office(submission_id=submission.pk)
    pipeline_render_pdfs(submission_id=submission.pk)
    with django_capture_on_commit_callbacks(execute=False):
        pipeline_prepare_deliveries(submission_id=submission.pk)
    return submission


def test_receipt_sent_again_after_a_forced_rerun_has_the_same_message_id(
    processed, smtp_server, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        pipeline_deliver(delivery_id=processed.deliveries.get(channel="inbox").pk)
    pipeline_notify_citizen(submission_id=processed.pk)
    # A crash before the commit would have left this unrecorded: force the re-run.
    Submission.objects.filter(pk=processed.pk).update(citizen_notified_at=None)
    pipeline_notify_citizen(submission_id=processed.pk)
    receipts = mails_to(smtp_server, processed.applicant_email, processed.reference)
    assert len(receipts) == 2
    ids = {message_id(m) for m in receipts}
    assert ids == {f"<receipt.{processed.reference}@{DOMAIN}>"}


def test_office_notice_sent_again_after_a_forced_rerun_has_the_same_message_id(
    processed, smtp_server
):
    delivery = processed.deliveries.get(channel=Delivery.Channel.EMAIL)
    pipeline_deliver(delivery_id=delivery.pk)
    Delivery.objects.filter(pk=delivery.pk).update(
        status=Delivery.Status.PENDING, delivered_at=None, next_attempt_at=timezone.now()
    )
    pipeline_deliver(delivery_id=delivery.pk)
    notices = mails_to(smtp_server, OFFICE_ADDRESS, processed.reference)
    assert len(notices) == 2
    assert {message_id(m) for m in notices} == {
        f"<office-notice.{processed.reference}.{delivery.pk}@{DOMAIN}>"
    }
    # The re-run did not record the delivery twice on the submission.
    kinds = list(processed.events.values_list("kind", flat=True))
    assert kinds.count("delivered_email") == 1


def test_status_mail_sent_again_after_a_forced_rerun_has_the_same_message_id(
    processed, smtp_server, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        pipeline_deliver(delivery_id=processed.deliveries.get(channel="inbox").pk)
        # The citizen withdraws (the one transition without staff): a status e-mail.
        case_transition(submission=processed, to_status=Submission.Status.WITHDRAWN, actor=None)
    notification = StatusNotification.objects.get(event__submission=processed)
    assert case_notify_citizen(notification_id=notification.pk) is True
    assert case_notify_citizen(notification_id=notification.pk) is False  # recorded: not again
    StatusNotification.objects.filter(pk=notification.pk).update(sent_at=None)
    assert case_notify_citizen(notification_id=notification.pk) is True
    mails = [m for m in mails_to(smtp_server, processed.applicant_email, processed.reference)]
    assert len(mails) == 2
    assert {message_id(m) for m in mails} == {
        f"<status.{processed.reference}.{notification.pk}@{DOMAIN}>"
    }


def test_admin_alert_names_the_failure_in_its_message_id(
    processed, smtp_server, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        pipeline_fail(submission_id=processed.pk, reason="Test: <script>alert(1)</script>")
    event = SubmissionEvent.objects.get(submission=processed, kind="pipeline_failed")
    alerts = [m.message for m in smtp_server.messages if m.rcpt_to == ["admins@portal.example"]]
    assert len(alerts) == 1
    assert message_id(alerts[0]) == (
        f"<alert-pipeline-failed.{processed.reference}.{event.pk}@{DOMAIN}>"
    )
