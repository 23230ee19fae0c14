"""Recovery by what is recorded: the selectors of lost work on constructed rows, the claims
a step records, and the sweeper's re-enqueue."""

from __future__ import annotations

import datetime
import json

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from submissions import tasks
from submissions.models import Delivery, Submission
from submissions.pipeline import pipeline_resolve_office, pipeline_sweep
from submissions.recovery import (
    TASK_DELIVER_DELIVERY,
    TASK_RENDER_PDFS,
    TASK_RESOLVE_OFFICE,
    deliveries_stuck,
    step_claim_duration,
    step_time_limits,
    submissions_stuck,
)
from submissions.steps import Claim, Step, locked_step
from tests.factories import SubmissionFactory

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def ago(seconds: float) -> datetime.datetime:
    return NOW - datetime.timedelta(seconds=seconds)


def submission(office_setup, **fields) -> Submission:
    fields.setdefault("gemeinde", office_setup["gemeinde"])
    return SubmissionFactory(form_version=office_setup["version"], **fields)


def claimed(*, since: float, expires_in: float) -> dict:
    return {
        "claimed_at": ago(since),
        "claimed_by": "resolve_office abc#0 @w1",
        "claim_expires_at": NOW + datetime.timedelta(seconds=expires_in),
    }


@pytest.fixture(autouse=True)
def limits(settings):
    settings.PORTAL_STEP_UNCLAIMED_SECONDS = 60
    settings.PORTAL_STEP_TIME_LIMIT = 60
    settings.PORTAL_STEP_SOFT_TIME_LIMIT = 50
    settings.PORTAL_PDF_TIME_LIMIT = 120
    settings.PORTAL_PDF_SOFT_TIME_LIMIT = 100
    settings.PORTAL_STEP_CLAIM_MARGIN_SECONDS = 10


def test_a_claim_within_its_limit_is_never_stuck_even_when_the_queues_are_empty(office_setup):
    row = submission(office_setup, enqueued_at=ago(3600), **claimed(since=50, expires_in=20))
    assert row.pk not in submissions_stuck(now=NOW, waiting=False)
    assert row.pk not in submissions_stuck(now=NOW, waiting=True)


def test_a_claim_past_its_limit_is_stuck_even_behind_a_long_backlog(office_setup):
    row = submission(office_setup, enqueued_at=ago(100), **claimed(since=90, expires_in=-1))
    assert submissions_stuck(now=NOW, waiting=True) == [row.pk]
    assert submissions_stuck(now=NOW, waiting=False) == [row.pk]


def test_work_enqueued_but_never_claimed_is_stuck_only_while_no_tasks_wait(office_setup):
    lost = submission(office_setup, enqueued_at=ago(61))
    recent = submission(office_setup, enqueued_at=ago(59))
    assert submissions_stuck(now=NOW, waiting=False) == [lost.pk]
    # A backlog: the task may still be in the queue, so nothing is re-enqueued.
    assert submissions_stuck(now=NOW, waiting=True) == []
    assert recent.pk not in submissions_stuck(now=NOW, waiting=False)


def test_a_row_from_before_claims_were_recorded_goes_by_its_last_progress(office_setup):
    legacy = submission(office_setup, enqueued_at=None, pipeline_progress_at=ago(3600))
    fresh = submission(office_setup, enqueued_at=None, pipeline_progress_at=ago(1))
    never = submission(office_setup, enqueued_at=None, pipeline_progress_at=None)
    stuck = submissions_stuck(now=NOW, waiting=False)
    assert legacy.pk in stuck
    assert fresh.pk not in stuck and never.pk not in stuck


def test_finished_failed_and_purged_submissions_are_never_stuck(office_setup):
    expired = claimed(since=900, expires_in=-800)
    submission(
        office_setup,
        office_resolved_at=NOW,
        pdfs_rendered_at=NOW,
        citizen_notified_at=NOW,
        enqueued_at=ago(900),
        **expired,
    )
    submission(office_setup, pipeline_failed_at=NOW, enqueued_at=ago(900), **expired)
    submission(office_setup, purged_at=NOW, enqueued_at=ago(900), **expired)
    assert submissions_stuck(now=NOW, waiting=False) == []


def test_stuck_submissions_come_oldest_first_and_within_the_limit(office_setup):
    newer = submission(office_setup, enqueued_at=ago(200))
    older = submission(office_setup, enqueued_at=ago(400))
    assert submissions_stuck(now=NOW, waiting=False) == [older.pk, newer.pk]
    assert submissions_stuck(now=NOW, waiting=False, limit=1) == [older.pk]


def delivery(office_setup, **fields) -> Delivery:
    fields.setdefault("next_attempt_at", ago(120))
    return Delivery.objects.create(submission=submission(office_setup), channel="webhook", **fields)


def test_delivery_attempts_without_a_live_task_are_found_by_what_is_recorded(office_setup):
    dead = delivery(office_setup, enqueued_at=ago(100), **claimed(since=80, expires_in=-10))
    live = delivery(office_setup, enqueued_at=ago(100), **claimed(since=80, expires_in=5))
    never_enqueued = delivery(office_setup, enqueued_at=None)
    earlier_attempt = delivery(office_setup, enqueued_at=ago(300), next_attempt_at=ago(10))
    unclaimed = delivery(office_setup, enqueued_at=ago(61), next_attempt_at=ago(120))
    waiting_turn = delivery(office_setup, enqueued_at=ago(30), next_attempt_at=ago(120))
    not_due = delivery(office_setup, next_attempt_at=NOW + datetime.timedelta(minutes=5))
    done = delivery(office_setup, status=Delivery.Status.DELIVERED, enqueued_at=ago(900))
    quiet = deliveries_stuck(now=NOW, waiting=False)
    busy = deliveries_stuck(now=NOW, waiting=True)
    assert {dead.pk, never_enqueued.pk, earlier_attempt.pk, unclaimed.pk} == set(quiet)
    # Behind a backlog only what certainly has no task: an expired claim, no task at all.
    assert {dead.pk, never_enqueued.pk, earlier_attempt.pk} == set(busy)
    for row in (live, waiting_turn, not_due, done):
        assert row.pk not in quiet


def test_claims_hold_for_the_tasks_hard_time_limit_plus_the_margin():
    assert step_claim_duration(task_name=TASK_RENDER_PDFS) == datetime.timedelta(seconds=130)
    assert step_claim_duration(task_name=TASK_DELIVER_DELIVERY) == datetime.timedelta(seconds=70)
    # The tasks run with exactly the limits the claims are derived from (one place).
    for task in (
        tasks.resolve_office,
        tasks.render_pdfs,
        tasks.deliver_submission,
        tasks.deliver_delivery,
        tasks.notify_citizen,
    ):
        limits = step_time_limits(task_name=task.name)
        assert limits["time_limit"] == task.time_limit
        assert limits["soft_time_limit"] == task.soft_time_limit
        assert task.soft_time_limit < task.time_limit
    # The defaults redo a step lost mid-delivery within two minutes of being claimed.
    worst = (
        django_settings.PORTAL_STEP_TIME_LIMIT
        + django_settings.PORTAL_STEP_CLAIM_MARGIN_SECONDS
        + django_settings.CELERY_BEAT_SCHEDULE["submissions-sweep-stuck"]["schedule"]
    )
    assert worst <= 110
    assert django_settings.PORTAL_STEP_TIME_LIMIT > django_settings.PORTAL_WEBHOOK_TIMEOUT_SECONDS


@pytest.mark.django_db(transaction=True)
def test_a_step_records_its_claim_and_clears_it_when_it_ends(office_setup):
    row = submission(office_setup, enqueued_at=ago(5))
    claim = Claim(by="resolve_office t1#0", at=NOW, expires_at=NOW + datetime.timedelta(seconds=70))
    assert pipeline_resolve_office(submission_id=row.pk, claim=claim) is Step.DONE
    row.refresh_from_db()
    assert row.office_resolved_at is not None
    assert (row.claimed_at, row.claimed_by, row.claim_expires_at) == (None, "", None)


@pytest.mark.django_db(transaction=True)
def test_a_step_that_raises_leaves_its_claim_for_the_sweeper(office_setup):
    row = submission(office_setup, enqueued_at=ago(5))
    claim = Claim(by="render_pdfs t2#0", at=NOW, expires_at=NOW + datetime.timedelta(seconds=130))
    with (
        pytest.raises(RuntimeError),
        locked_step(Submission.objects, pk=row.pk, skip=lambda _row: None, claim=claim),
    ):
        raise RuntimeError("the step's own work failed")
    row.refresh_from_db()
    assert row.claimed_by == "render_pdfs t2#0"
    assert row.claim_expires_at == claim.expires_at


@pytest.mark.django_db(transaction=True)
def test_sweeper_redoes_an_expired_claim_behind_a_backlog_once(
    office_setup, settings, clean_broker
):
    settings.PORTAL_SWEEP_MAX_BACKLOG = 0
    dead = submission(office_setup, enqueued_at=ago(100), **claimed(since=90, expires_in=-1))
    waiting = submission(office_setup, enqueued_at=ago(600))
    clean_broker.lpush("pdf", b"{}")  # a task still waits in a queue
    assert pipeline_sweep()["submissions"] == 1
    queued = [json.loads(raw) for raw in clean_broker.lrange("default", 0, -1)]
    assert [q["headers"]["task"] for q in queued] == ["submissions.tasks.resolve_office"]
    assert queued[0]["headers"]["argsrepr"] == f"({dead.pk},)"
    dead.refresh_from_db()
    assert dead.claim_expires_at is None and dead.enqueued_at > ago(5)
    # Idempotent: the re-enqueue is recorded, so the next sweep finds nothing new.
    assert pipeline_sweep()["submissions"] == 0
    assert clean_broker.llen("default") == 1
    waiting.refresh_from_db()
    assert waiting.enqueued_at == ago(600)
    assert tasks.resolve_office.name == TASK_RESOLVE_OFFICE
