"""The locked step: one claim per row, the recorded state decides, one transaction."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.utils import timezone

from submissions.models import Submission
from submissions.steps import LockedStep, Step, locked_step
from tests.factories import SubmissionFactory
from tests.submissions.conftest import make_answers

pytestmark = pytest.mark.django_db(transaction=True)


def notified(submission: Submission) -> Step | None:
    return Step.DONE if submission.citizen_notified_at is not None else None


class CountingStep:
    """A step whose body can be held open, counting how often the body ran."""

    def __init__(self) -> None:
        self.runs = 0
        self.entered = threading.Event()
        self.release = threading.Event()

    def __call__(self, submission_id: int, *, hold: bool = False) -> Step:
        with locked_step(Submission.objects, pk=submission_id, skip=notified) as step:
            if step.skip:
                return step.outcome
            self.runs += 1
            if hold:
                self.entered.set()
                assert self.release.wait(10)
            now = timezone.now()
            step.complete(event="test_step", at=now, citizen_notified_at=now)
        return Step.DONE


def submission_for(office_setup) -> Submission:
    return SubmissionFactory(
        form_version=office_setup["version"],
        gemeinde=office_setup["gemeinde"],
        answers=make_answers(),
    )


def test_two_workers_claim_the_same_step_only_one_runs_it(office_setup):
    submission = submission_for(office_setup)
    step = CountingStep()
    results: list[Step] = []

    def run(hold: bool) -> None:
        try:
            results.append(step(submission.pk, hold=hold))
        finally:
            connection.close()  # each thread has its own database connection

    first = threading.Thread(target=run, args=(True,))
    first.start()
    assert step.entered.wait(10)
    second = threading.Thread(target=run, args=(False,))
    second.start()
    second.join(10)
    assert results == [Step.BUSY]  # skipped the locked row at once, did not wait
    step.release.set()
    first.join(10)
    assert results == [Step.BUSY, Step.DONE]
    # Recorded as done: a later run does not run the body again.
    assert step(submission.pk) is Step.DONE
    assert step.runs == 1
    submission.refresh_from_db()
    assert submission.citizen_notified_at is not None
    assert submission.pipeline_progress_at == submission.citizen_notified_at
    assert submission.events.filter(kind="test_step").count() == 1


def test_a_failing_body_records_nothing_and_releases_the_row(office_setup):
    submission = submission_for(office_setup)
    with (
        pytest.raises(RuntimeError),
        locked_step(Submission.objects, pk=submission.pk, skip=notified) as step,
    ):
        now = timezone.now()
        step.complete(event="test_step", at=now, citizen_notified_at=now)
        raise RuntimeError("the step's work failed")
    submission.refresh_from_db()
    assert submission.citizen_notified_at is None
    assert not submission.events.filter(kind="test_step").exists()
    assert CountingStep()(submission.pk) is Step.DONE


def test_a_missing_row_is_reported_busy_and_skipped():
    with locked_step(Submission.objects, pk=0, skip=notified) as step:
        assert step == LockedStep(row=None, outcome=Step.BUSY) and step.skip
