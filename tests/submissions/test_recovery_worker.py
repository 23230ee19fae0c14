"""Recovery with real worker processes: a task lost to a SIGKILL is redone within two
minutes under the default limits, and a long backlog is never taken for lost work."""

from __future__ import annotations

import threading
import time

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from submissions.models import Delivery, Submission
from submissions.pipeline import broker_backlog, pipeline_sweep
from submissions.recovery import step_claim_duration, submissions_stuck
from tests.submissions import test_pipeline_worker as chain
from tests.submissions.test_pipeline_worker import all_done, assert_delivered_exactly_once, submit

pytestmark = [pytest.mark.worker]

# The office (webhook, e-mail) and worker settings of the pipeline's fault tests.
office = chain.office
pipeline_env = chain.pipeline_env


def test_delivery_lost_to_a_worker_sigkill_is_redone_within_two_minutes(
    office_setup, office, webhook_receiver, smtp_server, pipeline_env, start_worker, _private_media
):
    # Default limits and sweep interval: nothing here is shortened for the test.
    interval = django_settings.CELERY_BEAT_SCHEDULE["submissions-sweep-stuck"]["schedule"]
    webhook_receiver.hold = threading.Event()
    first = start_worker(env=pipeline_env)
    (submission,) = submit(office_setup)
    # The worker is inside the webhook POST: its claim on the delivery is recorded.
    assert webhook_receiver.held.wait(60), first.log()
    webhook = Delivery.objects.get(submission=submission, channel="webhook")
    assert "deliver_delivery" in webhook.claimed_by
    assert webhook.claim_expires_at - webhook.claimed_at == step_claim_duration(
        task_name="submissions.tasks.deliver_delivery"
    )
    first.kill()
    killed = time.monotonic()
    # The office's server had the request; it now answers into a dead socket.
    webhook_receiver.hold.set()
    webhook_receiver.hold = None
    second = start_worker(env=pipeline_env)
    # Beat's job, at its interval, starting at an arbitrary moment after the kill.
    next_sweep = killed
    while not all_done([submission]):
        elapsed = time.monotonic() - killed
        assert elapsed <= 120, f"not delivered {elapsed:.0f} s after the kill:\n{second.log()}"
        if time.monotonic() >= next_sweep:
            pipeline_sweep()
            next_sweep += interval
        time.sleep(0.5)
    time.sleep(1)
    assert_delivered_exactly_once(
        [submission], receiver=webhook_receiver, smtp=smtp_server, media=_private_media
    )
    # The lost attempt was made again under the same idempotency key, not as a new delivery.
    keys = [r.headers["Idempotency-Key"] for r in webhook_receiver.requests]
    assert keys == [str(webhook.pk), str(webhook.pk)]
    webhook.refresh_from_db()
    assert webhook.claimed_at is None and webhook.claim_expires_at is None


def test_a_long_backlog_behind_a_slow_worker_is_not_re_enqueued(
    office_setup,
    office,
    webhook_receiver,
    smtp_server,
    pipeline_env,
    start_worker,
    settings,
    _private_media,
):
    # Work unclaimed for 2 s would count as lost if the queues were empty.
    settings.PORTAL_STEP_UNCLAIMED_SECONDS = 2
    webhook_receiver.delay = 1.0  # a slow office server: every delivery takes a second
    submissions = submit(office_setup, 8)  # queued before any worker runs
    worker = start_worker(env=pipeline_env, concurrency=1)
    sweeps = []
    waited_unclaimed = 0
    deadline = time.monotonic() + 180
    while not all_done(submissions):
        assert time.monotonic() < deadline, f"backlog not drained:\n{worker.log()}"
        backlog = broker_backlog()
        if backlog and submissions_stuck(now=timezone.now(), waiting=False):
            # Without the backlog rule these would be re-enqueued now.
            waited_unclaimed += 1
        sweeps.append(pipeline_sweep())
        time.sleep(0.5)
    assert waited_unclaimed > 0, "the backlog never outlasted the unclaimed limit"
    assert all(result == {"submissions": 0, "deliveries": 0} for result in sweeps), sweeps
    time.sleep(1)
    assert_delivered_exactly_once(
        submissions, receiver=webhook_receiver, smtp=smtp_server, media=_private_media
    )
    # One request per delivery: no attempt was repeated.
    assert len(webhook_receiver.requests) == len(submissions)
    for submission in Submission.objects.filter(pk__in=[s.pk for s in submissions]):
        kinds = list(submission.events.values_list("kind", flat=True))
        assert kinds.count("office_resolved") == kinds.count("pdfs_rendered") == 1
