"""What each pipeline step costs the database, so a gain cannot silently regress.

A submission's pipeline runs four tasks (PDFs, one per outside channel, the
citizen's e-mail); PostgreSQL's share of the machine is what kept the
backlog drain below its goal (README, "Benchmarks"). Each task claims its
row in one autocommit statement, fetches what it reads in one query (plus
the attachments), records its completion and clears its claim in one
``UPDATE``, and writes its history events in one ``INSERT``. A delivery over
an outside channel records itself on the submission in its own transaction
when the row is free. The counts include BEGIN, COMMIT and savepoints: each
is a round trip.

The steps run in this process, not in a worker, so that every statement is
seen; what they record is checked as well, so a cheaper step that records
less fails here too.
"""

from __future__ import annotations

import datetime
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from submissions.models import Delivery, Submission, SubmissionTally
from submissions.pipeline import (
    Step,
    pipeline_deliver,
    pipeline_notify_citizen,
    pipeline_render_pdfs,
)
from submissions.services import submission_submit
from submissions.steps import Claim, claim_record
from tests.submissions.conftest import make_answers, make_draft

# claim; BEGIN; the submission with version, service, Gemeinde and office; its
# attachments; its deliveries (none yet); INSERT of all three; the inbox in a
# savepoint (SAVEPOINT, UPDATE, RELEASE); two tally upserts; the submission's
# UPDATE; the events' INSERT; COMMIT.
RENDER_STATEMENTS = 14
# claim; BEGIN; the delivery with submission, office, service and Gemeinde;
# its UPDATE; then its record on the submission: the row locked, the channels'
# states, the channels' events, the missing event, the submission's UPDATE; COMMIT.
EMAIL_STATEMENTS = 10
# The same plus the form version, its service and the attachments for the payload.
WEBHOOK_STATEMENTS = 13
# claim; BEGIN; the submission with office and service; its UPDATE; the event; COMMIT.
NOTIFY_STATEMENTS = 6


def a_claim(by: str = "test") -> Claim:
    now = timezone.now()
    return Claim(by=by, at=now, expires_at=now + datetime.timedelta(minutes=5))


@pytest.fixture
def all_channels(office_setup, webhook_receiver):
    office = office_setup["office"]
    office.notification_email = "eingang@example.org"
    office.webhook_url = webhook_receiver.url
    office.webhook_secret = "a-webhook-secret"
    office.save()
    return office_setup


@contextmanager
def submission_held(pk: int) -> Iterator[None]:
    """Another connection holds submission ``pk``'s row lock while the block runs."""
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        try:
            with transaction.atomic():
                Submission.objects.select_for_update().get(pk=pk)
                held.set()
                release.wait(30)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold)
    holder.start()
    assert held.wait(10)
    try:
        yield
    finally:
        release.set()
        holder.join(10)


def statements(step) -> tuple[object, list[str]]:
    with CaptureQueriesContext(connection) as captured:
        outcome = step()
    return outcome, [query["sql"] for query in captured.captured_queries]


def run_step(step, *, expected: int) -> None:
    """Run ``step``; it must go through, in exactly ``expected`` statements."""
    outcome, sql = statements(step)
    assert outcome is Step.DONE
    assert len(sql) == expected, "\n".join(sql)


@pytest.mark.django_db(transaction=True)
def test_each_step_records_everything_in_few_statements(
    all_channels, _private_media, clean_broker, smtp_server, webhook_receiver
):
    submission, _ = submission_submit(
        draft=make_draft(all_channels), answers=make_answers(), language="de"
    )

    run_step(
        lambda: pipeline_render_pdfs(submission_id=submission.pk, claim=a_claim()),
        expected=RENDER_STATEMENTS,
    )
    submission.refresh_from_db()
    assert submission.pdfs_rendered_at and submission.office_pdf and submission.receipt_pdf
    assert submission.status == Submission.Status.FORWARDED
    assert (submission.claimed_at, submission.claimed_by) == (None, "")
    assert submission.enqueued_at == submission.pdfs_rendered_at
    deliveries = {d.channel: d for d in submission.deliveries.all()}
    assert set(deliveries) == {"inbox", "email", "webhook"}
    assert deliveries["inbox"].status == Delivery.Status.DELIVERED
    for channel in ("email", "webhook"):
        # Recorded as enqueued in the INSERT itself: the sweeper leaves them to their tasks.
        assert deliveries[channel].status == Delivery.Status.PENDING
        assert deliveries[channel].enqueued_at == submission.pdfs_rendered_at
    assert submission.delivered_at is None
    tallies = dict(
        SubmissionTally.objects.filter(service=submission.service).values_list("status", "count")
    )
    assert tallies == {"received": 0, "forwarded": 1}

    run_step(
        lambda: pipeline_deliver(delivery_id=deliveries["email"].pk, claim=a_claim()),
        expected=EMAIL_STATEMENTS,
    )
    assert len(smtp_server.messages) == 1
    submission.refresh_from_db()
    assert submission.delivered_at is None  # the webhook is still open

    run_step(
        lambda: pipeline_deliver(delivery_id=deliveries["webhook"].pk, claim=a_claim()),
        expected=WEBHOOK_STATEMENTS,
    )
    assert len(webhook_receiver.requests) == 1
    submission.refresh_from_db()
    assert submission.delivered_at is not None  # the last channel through sets it

    run_step(
        lambda: pipeline_notify_citizen(submission_id=submission.pk, claim=a_claim()),
        expected=NOTIFY_STATEMENTS,
    )
    submission.refresh_from_db()
    assert submission.citizen_notified_at is not None
    assert (submission.claimed_at, submission.claimed_by) == (None, "")
    assert not Delivery.objects.filter(submission=submission).exclude(claimed_by="").exists()
    kinds = list(submission.events.values_list("kind", flat=True))
    for kind in (
        "pdfs_rendered",
        "delivered_inbox",
        "delivered_email",
        "delivered_webhook",
        "citizen_notified",
    ):
        assert kinds.count(kind) == 1, kinds
    assert kinds.count("status_changed") == 1


@pytest.mark.django_db(transaction=True)
def test_a_delivery_whose_submission_is_held_records_itself_after_its_commit(
    all_channels, _private_media, clean_broker, smtp_server
):
    """While another transaction holds the submission (the citizen's e-mail, say), the
    delivery commits first and records itself afterwards, once the row is free."""
    submission, _ = submission_submit(
        draft=make_draft(all_channels), answers=make_answers(), language="de"
    )
    pipeline_render_pdfs(submission_id=submission.pk)
    email = submission.deliveries.get(channel="email")
    webhook = submission.deliveries.get(channel="webhook")
    Delivery.objects.filter(pk=webhook.pk).update(status=Delivery.Status.DELIVERED)

    worker = threading.Thread(
        target=lambda: (pipeline_deliver(delivery_id=email.pk), connections.close_all())
    )
    with submission_held(submission.pk):
        worker.start()
        # The delivery's own commit does not wait for the held row.
        deadline = time.monotonic() + 10
        while Delivery.objects.get(pk=email.pk).status != Delivery.Status.DELIVERED:
            assert time.monotonic() < deadline, "the delivery waited for the submission's lock"
            time.sleep(0.05)
        time.sleep(0.2)
        assert worker.is_alive()  # its bookkeeping waits for the row
    worker.join(10)
    submission.refresh_from_db()
    assert submission.delivered_at is not None
    assert submission.events.filter(kind="delivered_email").count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_claim_is_one_statement_and_leaves_a_held_row_alone(all_channels):
    submission, _ = submission_submit(
        draft=make_draft(all_channels), answers=make_answers(), language="de"
    )
    claim = a_claim("first")
    _, sql = statements(lambda: claim_record(model=Submission, pk=submission.pk, claim=claim))
    assert len(sql) == 1
    submission.refresh_from_db()
    assert (submission.claimed_by, submission.claim_expires_at) == ("first", claim.expires_at)

    with submission_held(submission.pk):
        assert claim_record(model=Submission, pk=submission.pk, claim=a_claim("second")) is False
        assert claim_record(model=Submission, pk=0, claim=a_claim("third")) is False
    submission.refresh_from_db()
    assert submission.claimed_by == "first"
    assert claim_record(model=Submission, pk=submission.pk, claim=a_claim("fourth")) is True


@pytest.mark.django_db(transaction=True)
def test_a_delivery_whose_record_was_lost_is_recorded_by_the_next_channel(
    all_channels, _private_media, clean_broker, smtp_server
):
    """The webhook was committed as delivered, then its worker died before recording it on
    the submission; the office e-mail, delivered next, records both channels."""
    submission, _ = submission_submit(
        draft=make_draft(all_channels), answers=make_answers(), language="de"
    )
    pipeline_render_pdfs(submission_id=submission.pk)
    Delivery.objects.filter(submission=submission, channel="webhook").update(
        status=Delivery.Status.DELIVERED, delivered_at=timezone.now(), next_attempt_at=None
    )
    pipeline_deliver(delivery_id=submission.deliveries.get(channel="email").pk)
    submission.refresh_from_db()
    assert submission.delivered_at is not None
    kinds = list(submission.events.values_list("kind", flat=True))
    assert kinds.count("delivered_webhook") == 1
    assert kinds.count("delivered_email") == 1
