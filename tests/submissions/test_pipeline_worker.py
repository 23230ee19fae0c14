"""The pipeline end to end with real worker processes, Redis, PostgreSQL, SMTP and a webhook.

Fault tests: a worker SIGKILLed mid-chain, Redis restarted while submissions
are queued, an office webhook that is down and comes back. In every case each
submission must end delivered exactly once, with no duplicate PDF or delivery.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pypdf
import pytest
import redis
from django.db import connection

from submissions.models import Delivery, Submission
from submissions.pipeline import pipeline_sweep
from submissions.services import submission_submit
from tests.submissions.conftest import make_answers, make_draft
from tests.support.redis_server import ThrowawayRedis
from tests.support.worker import FAST_RECOVERY_ENV, wait_until
from thueringen_portal.celery import app as celery_app

SECRET = "webhook-secret-of-the-office"
pytestmark = [pytest.mark.worker]


@pytest.fixture
def office(office_setup, webhook_receiver):
    office = office_setup["office"]
    office.webhook_url = webhook_receiver.url
    office.webhook_secret = SECRET
    office.notification_email = "eingang@vg-teststadt.example"
    office.save()
    return office


@pytest.fixture
def pipeline_env(_private_media, smtp_server) -> dict[str, str]:
    """What every worker of these tests needs: the test's media folder, SMTP, fast retries."""
    return {
        "PORTAL_MEDIA_ROOT": str(_private_media),
        "PORTAL_STORAGE_BACKEND": "local",
        "EMAIL_HOST": smtp_server.host,
        "EMAIL_PORT": str(smtp_server.port),
        "PORTAL_ADMIN_EMAILS": "admins@portal.example",
        "PORTAL_DELIVERY_BACKOFF_BASE_SECONDS": "1",
        "PORTAL_DELIVERY_BACKOFF_MAX_SECONDS": "2",
        "PORTAL_WEBHOOK_TIMEOUT_SECONDS": "30",
    }


@pytest.fixture
def fast_sweeper(settings, pipeline_env):
    # The sweeper runs in this process (beat's job): a task not claimed within 2 s
    # counts as lost, and the workers' claims expire after short time limits.
    settings.PORTAL_STEP_UNCLAIMED_SECONDS = 2
    pipeline_env.update(FAST_RECOVERY_ENV)


def submit(office_setup, count: int = 1) -> list[Submission]:
    submissions = []
    for i in range(count):
        draft = make_draft(office_setup)
        submission, _secret = submission_submit(
            draft=draft, answers=make_answers(name=f"Antragsteller {i}"), language="de"
        )
        submissions.append(submission)
    return submissions


def all_done(submissions: list[Submission], *, sweep: bool = False) -> bool:
    if sweep:
        pipeline_sweep()
    ids = [s.pk for s in submissions]
    return Submission.objects.filter(
        pk__in=ids, delivered_at__isnull=False, citizen_notified_at__isnull=False
    ).count() == len(ids)


def verify_signature(request) -> bool:
    timestamp = request.headers["X-Portal-Timestamp"]
    mac = hmac.new(SECRET.encode(), timestamp.encode() + b"." + request.body, hashlib.sha256)
    return hmac.compare_digest(request.headers["X-Portal-Signature"], f"sha256={mac.hexdigest()}")


def assert_delivered_exactly_once(submissions, *, receiver, smtp, media: Path) -> None:
    for submission in submissions:
        submission.refresh_from_db()
        assert submission.status == Submission.Status.FORWARDED
        assert submission.pipeline_failed_at is None
        deliveries = list(submission.deliveries.order_by("channel"))
        assert [(d.channel, d.status) for d in deliveries] == [
            ("email", "delivered"),
            ("inbox", "delivered"),
            ("webhook", "delivered"),
        ]
        # Both PDFs stored once: no second copy from a re-run.
        files = sorted(p.name for p in (media / "pdfs" / submission.reference).iterdir())
        assert files == [
            f"antrag-{submission.reference}.pdf",
            f"eingangsbestaetigung-{submission.reference}.pdf",
        ]
        for field in (submission.office_pdf, submission.receipt_pdf):
            with field.open("rb") as handle:
                assert len(pypdf.PdfReader(handle).pages) >= 1
        # The office's system processed it once (it deduplicates by Idempotency-Key).
        webhook = next(d for d in deliveries if d.channel == "webhook")
        posted = [r for r in receiver.requests if r.headers["Idempotency-Key"] == str(webhook.pk)]
        assert posted, f"no webhook request for {submission.reference}"
        assert all(verify_signature(r) for r in posted)
        assert all(json.loads(r.body)["reference"] == submission.reference for r in posted)
        assert receiver.processed_keys.count(str(webhook.pk)) == 1
        # The citizen got one receipt, the office one notification.
        receipts = [
            m
            for m in smtp.messages
            if m.rcpt_to == [submission.applicant_email]
            and submission.reference in m.message["Subject"]
        ]
        assert len(receipts) == 1
        attachment = next(receipts[0].message.iter_attachments())
        assert attachment.get_content_type() == "application/pdf"
        assert (
            submission.reference
            in pypdf.PdfReader(io.BytesIO(attachment.get_content())).pages[0].extract_text()
        )
        notifications = [
            m
            for m in smtp.messages
            if m.rcpt_to == ["eingang@vg-teststadt.example"]
            and submission.reference in m.message["Subject"]
        ]
        assert len(notifications) == 1
    assert Delivery.objects.filter(submission__in=submissions).count() == 3 * len(submissions)


def test_submission_goes_from_submit_to_delivered_and_the_webhook_gets_one_signed_post(
    office_setup, office, webhook_receiver, smtp_server, pipeline_env, start_worker, _private_media
):
    worker = start_worker(env=pipeline_env)
    (submission,) = submit(office_setup)
    wait_until(
        lambda: all_done([submission]),
        timeout=60,
        message=f"not delivered:\n{worker.log()}",
    )
    time.sleep(1)  # nothing more may arrive
    assert len(webhook_receiver.requests) == 1
    assert_delivered_exactly_once(
        [submission], receiver=webhook_receiver, smtp=smtp_server, media=_private_media
    )
    submission.refresh_from_db()
    assert submission.office == office
    kinds = list(submission.events.values_list("kind", flat=True))
    for kind in ["submitted", "office_resolved", "pdfs_rendered", "delivered_inbox"]:
        assert kinds.count(kind) == 1, kinds
    assert kinds.count("citizen_notified") == 1


def test_channels_are_delivered_in_parallel_each_exactly_once(
    office_setup, office, webhook_receiver, smtp_server, pipeline_env, start_worker, _private_media
):
    """One task per outside channel: a slow webhook holds back neither the office's
    e-mail nor the citizen's receipt, and each channel is delivered once."""
    webhook_receiver.hold = threading.Event()
    workers = [start_worker(env=pipeline_env) for _ in range(2)]
    (submission,) = submit(office_setup)
    # One worker is inside the webhook POST; the other does the rest meanwhile.
    assert webhook_receiver.held.wait(60), workers[0].log() + workers[1].log()

    def mailed(recipient: str) -> int:
        return sum(
            1
            for m in smtp_server.messages
            if m.rcpt_to == [recipient] and submission.reference in m.message["Subject"]
        )

    wait_until(
        lambda: (
            mailed("eingang@vg-teststadt.example") == 1 and mailed(submission.applicant_email) == 1
        ),
        timeout=60,
        message="e-mails waited for the webhook:\n" + workers[1].log(),
    )
    submission.refresh_from_db()
    assert submission.status == Submission.Status.FORWARDED  # the inbox, with the PDFs
    assert submission.delivered_at is None  # the webhook is still being answered
    webhook_receiver.hold.set()
    webhook_receiver.hold = None
    wait_until(lambda: all_done([submission]), timeout=60, message=workers[0].log())
    time.sleep(1)  # nothing more may arrive
    assert_delivered_exactly_once(
        [submission], receiver=webhook_receiver, smtp=smtp_server, media=_private_media
    )
    assert len(webhook_receiver.requests) == 1
    kinds = list(submission.events.values_list("kind", flat=True))
    for kind in ["delivered_inbox", "delivered_email", "delivered_webhook", "citizen_notified"]:
        assert kinds.count(kind) == 1, kinds


def test_worker_killed_mid_delivery_and_a_new_worker_finishes_every_submission(
    office_setup,
    office,
    webhook_receiver,
    smtp_server,
    pipeline_env,
    start_worker,
    fast_sweeper,
    _private_media,
):
    webhook_receiver.hold = threading.Event()
    first = start_worker(env=pipeline_env)
    submissions = submit(office_setup, 4)
    # The worker is now inside the webhook POST of the first submission, holding its row.
    assert webhook_receiver.held.wait(60), first.log()
    first.kill()
    # The office's system had received that request and now answers into a dead socket.
    webhook_receiver.hold.set()
    webhook_receiver.hold = None
    second = start_worker(env=pipeline_env)
    wait_until(
        lambda: all_done(submissions, sweep=True),
        timeout=90,
        interval=0.5,
        message=f"not all delivered after the kill:\n{second.log()}",
    )
    time.sleep(1)
    assert_delivered_exactly_once(
        submissions, receiver=webhook_receiver, smtp=smtp_server, media=_private_media
    )
    # The interrupted POST was repeated with the same idempotency key, not as a new delivery.
    keys = [r.headers["Idempotency-Key"] for r in webhook_receiver.requests]
    assert len(keys) == len(submissions) + 1
    assert len(set(keys)) == len(submissions)


def test_webhook_down_then_back_delivers_each_submission_once(
    office_setup, office, webhook_receiver, smtp_server, pipeline_env, start_worker, _private_media
):
    webhook_receiver.status = 503
    worker = start_worker(env=pipeline_env)
    submissions = submit(office_setup, 3)
    wait_until(
        lambda: len(webhook_receiver.requests) >= 3 * 3,
        timeout=60,
        message=f"no retries seen:\n{worker.log()}",
    )
    assert not webhook_receiver.acknowledged()
    waiting = Delivery.objects.get(submission=submissions[0], channel="webhook")
    assert waiting.status == "pending" and waiting.attempts >= 2
    assert waiting.last_status_code == 503
    # The citizen is told as soon as the office can see the case in its inbox.
    assert all(Submission.objects.get(pk=s.pk).status == "forwarded" for s in submissions)

    webhook_receiver.status = 200
    wait_until(
        lambda: all_done(submissions),
        timeout=60,
        message=f"not delivered after the webhook came back:\n{worker.log()}",
    )
    time.sleep(3)  # no late duplicate from a retry still scheduled
    assert len(webhook_receiver.acknowledged()) == 3
    assert_delivered_exactly_once(
        submissions, receiver=webhook_receiver, smtp=smtp_server, media=_private_media
    )


# --- Redis restart -----------------------------------------------------------


@pytest.fixture
def throwaway_redis(tmp_path) -> Iterator[ThrowawayRedis]:
    if not shutil.which("redis-server"):
        pytest.fail("redis-server is needed for the Redis restart test (apt-get install redis)")
    directory = tmp_path / "redis"
    directory.mkdir()
    server = ThrowawayRedis(directory)
    server.start()
    yield server
    server.stop()


@contextmanager
def broker(url: str) -> Iterator[None]:
    """Send this process's tasks to another broker for the duration of a test."""

    def reset() -> None:
        # Kombu keeps one pool per broker URL: forget ours, so the next send
        # picks the pool of the URL now configured (never close a shared pool).
        celery_app._pool = None
        celery_app.amqp._producer_pool = None

    previous = celery_app.conf.broker_url
    celery_app.conf.broker_url = url
    reset()
    try:
        yield
    finally:
        celery_app.conf.broker_url = previous
        reset()


def test_redis_restarted_while_submissions_are_queued_loses_none(
    office_setup,
    office,
    webhook_receiver,
    smtp_server,
    pipeline_env,
    start_worker,
    fast_sweeper,
    throwaway_redis,
    _private_media,
):
    env = {**pipeline_env, "CELERY_BROKER_URL": throwaway_redis.url}
    with broker(throwaway_redis.url):
        # Queued with no worker running, then Redis restarts: the queue must survive.
        # (The office is resolved at submit: the first task is the PDFs'.)
        queued = submit(office_setup, 3)
        assert redis.Redis.from_url(throwaway_redis.url).llen("pdf") == 3
        throwaway_redis.restart()
        assert redis.Redis.from_url(throwaway_redis.url).llen("pdf") == 3
        worker = start_worker(env=env)
        # More arrive while the worker runs, and Redis restarts under it.
        running = submit(office_setup, 3)
        throwaway_redis.restart()
        submissions = queued + running
        wait_until(
            lambda: all_done(submissions, sweep=True),
            timeout=120,
            interval=0.5,
            message=f"not all delivered after the Redis restarts:\n{worker.log()}",
        )
    time.sleep(1)
    assert_delivered_exactly_once(
        submissions, receiver=webhook_receiver, smtp=smtp_server, media=_private_media
    )
    connection.close()


def test_runaway_render_is_stopped_by_the_time_limit_and_fails_visibly(
    office_setup, office, pipeline_env, start_worker, smtp_server
):
    # Limits far below what the render task needs for a 1,000,000-character answer.
    worker = start_worker(
        env={**pipeline_env, "PORTAL_PDF_SOFT_TIME_LIMIT": "1", "PORTAL_PDF_TIME_LIMIT": "10"}
    )
    draft = make_draft(office_setup)
    submission, _ = submission_submit(
        draft=draft, answers=make_answers(description="Wort " * 200_000), language="de"
    )
    wait_until(
        lambda: Submission.objects.get(pk=submission.pk).pipeline_failed_at is not None,
        timeout=60,
        message=f"the render was not stopped:\n{worker.log()}",
    )
    submission.refresh_from_db()
    assert "Zeitlimit" in submission.pipeline_error
    assert submission.pdfs_rendered_at is None and not submission.office_pdf
    assert not submission.deliveries.exists()

    def alerts():
        return [m for m in smtp_server.messages if m.rcpt_to == ["admins@portal.example"]]

    # The alert is sent right after the failure is committed.
    wait_until(lambda: alerts(), timeout=10, message="platform admins were not alerted")
    time.sleep(0.5)
    assert len(alerts()) == 1 and submission.reference in alerts()[0].message["Subject"]


def test_worker_killed_while_rendering_leaves_no_duplicate_pdf(
    office_setup,
    office,
    webhook_receiver,
    smtp_server,
    pipeline_env,
    start_worker,
    fast_sweeper,
    _private_media,
):
    first = start_worker(env=pipeline_env)
    # A long answer, so that the render takes a few seconds and the kill lands inside it.
    draft = make_draft(office_setup)
    submission, _ = submission_submit(
        draft=draft, answers=make_answers(description="Wort " * 120_000), language="de"
    )
    wait_until(
        lambda: "render_pdfs" in first.log() and "received" in first.log().split("render_pdfs")[-1],
        timeout=30,
        interval=0.05,
        message=f"the render did not start:\n{first.log()}",
    )
    time.sleep(0.5)
    first.kill()
    submission.refresh_from_db()
    assert submission.pdfs_rendered_at is None, "the kill came too late to test anything"
    second = start_worker(env=pipeline_env)
    wait_until(
        lambda: all_done([submission], sweep=True),
        timeout=120,
        interval=0.5,
        message=f"not delivered after the kill:\n{second.log()}",
    )
    assert_delivered_exactly_once(
        [submission], receiver=webhook_receiver, smtp=smtp_server, media=_private_media
    )


def test_citizen_post_to_delivered_through_the_wizard(
    client, webhook_receiver, smtp_server, pipeline_env, start_worker, _private_media
):
    """The whole way: the citizen's HTTP POSTs, then the worker, then the office's webhook."""
    import re

    from django.core.cache import cache

    from tests.citizen.citizen_support import (
        municipal_rule,
        municipality,
        pdf_upload,
        publish,
    )

    cache.clear()  # rate limits of earlier tests
    version = publish()
    municipal_rule(version.service)
    gemeinde, office = municipality("Rhönblick", "Gemeindeverwaltung Rhönblick")
    office.webhook_url = webhook_receiver.url
    office.webhook_secret = SECRET
    office.notification_email = "eingang@vg-teststadt.example"
    office.save()
    worker = start_worker(env=pipeline_env)

    response = client.post(f"/gemeinden/{gemeinde.ags}/leistungen/hundeanmeldung/")
    draft_id = re.search(r"/antrag/([0-9a-f-]{36})/", response["Location"]).group(1)
    steps = [
        (
            "halter",
            {
                "halter-vorname": "Erika",
                "halter-nachname": "Mustermann",
                "halter-email": "erika@example.org",
            },
        ),
        ("hund", {"hund-hundename": "Bello", "hund-gefaehrlich": "no"}),
        ("nachweise", {"nachweise-versicherung": pdf_upload()}),
    ]
    for step, data in steps:
        answer = client.post(f"/antrag/{draft_id}/schritt/{step}/", data)
        assert answer.status_code == 302, answer.content.decode()[:2000]
    response = client.post(f"/antrag/{draft_id}/pruefen/", {"declaration": "on"})
    assert response.status_code == 302
    submission = Submission.objects.get()

    wait_until(
        lambda: all_done([submission]),
        timeout=60,
        message=f"not delivered:\n{worker.log()}",
    )
    time.sleep(1)
    assert_delivered_exactly_once(
        [submission], receiver=webhook_receiver, smtp=smtp_server, media=_private_media
    )
    (request,) = webhook_receiver.requests
    body = json.loads(request.body)
    assert body["attachments"][0]["name"] == "versicherung.pdf"
    # The citizen's confirmation page now offers the stored receipt.
    receipt = client.get(f"/status/{submission.reference}/eingangsbestaetigung.pdf")
    assert receipt.status_code == 200
    pdf = b"".join(receipt.streaming_content)
    assert submission.reference in pypdf.PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
