"""Pipeline steps in-process: idempotent steps, visible failure, the sweeper, the beat job."""

from __future__ import annotations

import datetime
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from municipalities.models import Office
from submissions.models import Delivery, Submission
from submissions.pipeline import (
    Step,
    pipeline_prepare_deliveries,
    pipeline_render_pdfs,
    pipeline_resolve_office,
    pipeline_sweep,
)
from submissions.services import submission_pipeline_retry, submission_submit
from tests.factories import GemeindeFactory, SubmissionFactory
from tests.submissions.conftest import make_answers, make_draft


def queued_tasks(redis_client, queue: str) -> list[str]:
    return [json.loads(raw)["headers"]["task"] for raw in redis_client.lrange(queue, 0, -1)]


def test_sweeper_runs_every_half_minute_from_beat():
    entry = django_settings.CELERY_BEAT_SCHEDULE["submissions-sweep-stuck"]
    assert entry["task"] == "submissions.tasks.sweep_stuck_submissions"
    assert entry["schedule"] == 30


def test_tasks_are_routed_to_their_queues_and_acknowledged_late():
    from submissions import tasks
    from thueringen_portal.celery import app

    router = app.amqp.router
    for task, queue in [
        (tasks.render_pdfs, "pdf"),
        (tasks.deliver_delivery, "delivery"),
        (tasks.deliver_submission, "delivery"),
        (tasks.notify_citizen, "email"),
    ]:
        assert router.route({}, task.name)["queue"].name == queue
        assert task.acks_late and task.reject_on_worker_lost
    assert tasks.render_pdfs.time_limit == django_settings.PORTAL_PDF_TIME_LIMIT
    # Countdowns stay far below the visibility timeout (Redis would re-deliver them).
    visibility = django_settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    assert visibility > django_settings.PORTAL_DELIVERY_MAX_COUNTDOWN_SECONDS * 4


@pytest.mark.django_db(transaction=True)
def test_steps_are_idempotent_a_rerun_changes_nothing(office_setup, _private_media, clean_broker):
    submission, _ = submission_submit(
        draft=make_draft(office_setup), answers=make_answers(), language="de"
    )
    # The office was resolved in the submit transaction: the PDFs come first.
    assert queued_tasks(clean_broker, "default") == []
    assert queued_tasks(clean_broker, "pdf") == ["submissions.tasks.render_pdfs"]
    assert pipeline_resolve_office(submission_id=submission.pk) is Step.DONE
    assert pipeline_render_pdfs(submission_id=submission.pk) is Step.DONE
    submission.refresh_from_db()
    first_pdf = submission.office_pdf.name
    # The PDF step delivered the inbox in its own transaction and enqueued the receipt.
    assert submission.status == Submission.Status.FORWARDED
    assert [(d.channel, d.status, d.attempts) for d in submission.deliveries.all()] == [
        ("inbox", "delivered", 1)
    ]
    assert queued_tasks(clean_broker, "email") == ["submissions.tasks.notify_citizen"]
    assert pipeline_render_pdfs(submission_id=submission.pk) is Step.DONE
    submission.refresh_from_db()
    assert submission.office_pdf.name == first_pdf
    assert len(list((_private_media / "pdfs" / submission.reference).iterdir())) == 2
    assert pipeline_prepare_deliveries(submission_id=submission.pk) is Step.DONE
    assert pipeline_prepare_deliveries(submission_id=submission.pk) is Step.DONE
    assert Delivery.objects.filter(submission=submission).count() == 1  # inbox only
    # No re-run enqueued anything a second time.
    assert queued_tasks(clean_broker, "delivery") == []
    assert queued_tasks(clean_broker, "email") == ["submissions.tasks.notify_citizen"]
    kinds = list(submission.events.values_list("kind", flat=True))
    assert kinds.count("office_resolved") == 1 and kinds.count("pdfs_rendered") == 1
    assert kinds.count("delivered_inbox") == 1


@pytest.mark.django_db(transaction=True)
def test_both_pdfs_in_one_step_redone_whole_after_a_crash_between_them(
    office_setup, _private_media, clean_broker
):
    """A worker killed between storing the office copy and the receipt committed nothing.

    What it leaves behind is the state built here: the office copy's file
    written under its fixed name, no receipt, nothing recorded on the row.
    The re-run renders both, replaces the file, and records the step once.
    """
    submission, _ = submission_submit(
        draft=make_draft(office_setup), answers=make_answers(), language="de"
    )
    folder = _private_media / "pdfs" / submission.reference
    folder.mkdir(parents=True)
    stale = folder / f"antrag-{submission.reference}.pdf"
    stale.write_bytes(b"%PDF-1.7 cut off by SIGKILL")
    assert pipeline_render_pdfs(submission_id=submission.pk) is Step.DONE
    assert pipeline_render_pdfs(submission_id=submission.pk) is Step.DONE
    submission.refresh_from_db()
    assert sorted(p.name for p in folder.iterdir()) == [
        f"antrag-{submission.reference}.pdf",
        f"eingangsbestaetigung-{submission.reference}.pdf",
    ]
    assert submission.office_pdf.name.endswith(f"/antrag-{submission.reference}.pdf")
    for field in (submission.office_pdf, submission.receipt_pdf):
        with field.open("rb") as handle:
            content = handle.read()
        assert content.startswith(b"%PDF") and b"cut off" not in content
    kinds = list(submission.events.values_list("kind", flat=True))
    assert kinds.count("pdfs_rendered") == 1 and kinds.count("delivered_inbox") == 1
    assert Delivery.objects.filter(submission=submission).count() == 1
    assert queued_tasks(clean_broker, "email") == ["submissions.tasks.notify_citizen"]


@pytest.mark.django_db(transaction=True)
def test_no_responsible_office_fails_visibly_alerts_admins_and_can_be_retried(
    office_setup, settings, smtp_server, clean_broker
):
    settings.ADMINS = [("Plattform", "admins@portal.example")]
    office_setup["office"].delete()  # nobody handles this Gemeinde
    submission, _ = submission_submit(
        draft=make_draft(office_setup), answers=make_answers(), language="de"
    )
    assert pipeline_resolve_office(submission_id=submission.pk) is Step.STOPPED
    submission.refresh_from_db()
    assert submission.pipeline_failed_at is not None
    assert "zuständige Behörde" in submission.pipeline_error
    assert submission.events.filter(kind="pipeline_failed").exists()
    assert [m.rcpt_to for m in smtp_server.messages] == [["admins@portal.example"]]
    assert submission.reference in smtp_server.messages[0].message["Subject"]
    # The sweeper leaves a visibly failed submission to people.
    Submission.objects.filter(pk=submission.pk).update(
        pipeline_progress_at=timezone.now() - datetime.timedelta(hours=1)
    )
    assert pipeline_sweep()["submissions"] == 0

    Office.objects.create(
        name="VG neu",
        kind=Office.Kind.MUNICIPAL_ADMINISTRATION,
        verband=submission.gemeinde.verband,
    )
    clean_broker.flushdb()
    submission_pipeline_retry(submission=submission)
    submission.refresh_from_db()
    assert submission.pipeline_failed_at is None and submission.pipeline_error == ""
    assert queued_tasks(clean_broker, "default") == ["submissions.tasks.resolve_office"]
    assert pipeline_resolve_office(submission_id=submission.pk) is Step.DONE


@pytest.mark.django_db(transaction=True)
def test_sweeper_reenqueues_only_what_is_stuck(office_setup, settings, clean_broker):
    settings.PORTAL_STEP_UNCLAIMED_SECONDS = 600
    old = timezone.now() - datetime.timedelta(minutes=11)
    stuck = SubmissionFactory(form_version=office_setup["version"], pipeline_progress_at=old)
    fresh = SubmissionFactory(
        form_version=office_setup["version"], pipeline_progress_at=timezone.now()
    )
    finished = SubmissionFactory(
        form_version=office_setup["version"],
        pipeline_progress_at=old,
        office_resolved_at=old,
        pdfs_rendered_at=old,
        citizen_notified_at=old,
    )
    due = Delivery.objects.create(
        submission=finished,
        channel="webhook",
        next_attempt_at=old,
        enqueued_at=old - datetime.timedelta(minutes=1),
    )
    Delivery.objects.create(
        submission=finished,
        channel="email",
        next_attempt_at=timezone.now() + datetime.timedelta(hours=1),
    )
    Delivery.objects.create(
        submission=fresh, channel="inbox", status="delivered", next_attempt_at=old
    )
    assert pipeline_sweep() == {"submissions": 1, "deliveries": 1}
    assert queued_tasks(clean_broker, "default") == ["submissions.tasks.resolve_office"]
    assert queued_tasks(clean_broker, "delivery") == ["submissions.tasks.deliver_delivery"]
    assert (
        json.loads(clean_broker.lrange("delivery", 0, 0)[0])["headers"]["argsrepr"]
        == f"({due.pk},)"
    )
    # A second sweep right after enqueues nothing again: the tasks are on their way.
    assert pipeline_sweep() == {"submissions": 0, "deliveries": 0}
    stuck.refresh_from_db()
    assert stuck.pipeline_progress_at > old


@pytest.mark.django_db(transaction=True)
def test_submission_of_a_gemeinde_without_office_data_never_reaches_a_worker_unnoticed(
    office_setup, clean_broker
):
    # Another Gemeinde, in a Verband without any office.
    lonely = GemeindeFactory(name="Einsamhausen")
    draft = make_draft({**office_setup, "gemeinde": lonely})
    submission, _ = submission_submit(draft=draft, answers=make_answers(), language="de")
    assert pipeline_resolve_office(submission_id=submission.pk) is Step.STOPPED
    submission.refresh_from_db()
    assert submission.pipeline_failed_at is not None


@pytest.mark.django_db(transaction=True)
def test_sweeper_does_not_pile_duplicates_onto_a_long_queue(office_setup, settings, clean_broker):
    settings.PORTAL_SWEEP_MAX_BACKLOG = 3
    old = timezone.now() - datetime.timedelta(hours=1)
    SubmissionFactory(form_version=office_setup["version"], pipeline_progress_at=old)
    for _ in range(4):  # a backlog the workers have not reached yet
        clean_broker.lpush("pdf", b"{}")
    assert pipeline_sweep()["submissions"] == 0
    clean_broker.delete("pdf")
    assert pipeline_sweep()["submissions"] == 1


def test_a_process_that_never_imported_the_tasks_enqueues_them_by_name():
    """The pipeline names its tasks; a web process has not imported ``submissions.tasks``."""
    script = (
        "import sys, django; django.setup()\n"
        "from submissions import pipeline\n"
        "from submissions.enqueue import task_named\n"
        "assert 'submissions.tasks' not in sys.modules\n"
        "names = [pipeline.TASK_RESOLVE_OFFICE, pipeline.TASK_RENDER_PDFS,\n"
        "         pipeline.TASK_DELIVER_SUBMISSION, pipeline.TASK_DELIVER_DELIVERY,\n"
        "         pipeline.TASK_NOTIFY_CITIZEN]\n"
        "print(' '.join(task_named(name).name for name in names))\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "thueringen_portal.settings"}
    result = subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "submissions.tasks.resolve_office",
        "submissions.tasks.render_pdfs",
        "submissions.tasks.deliver_submission",
        "submissions.tasks.deliver_delivery",
        "submissions.tasks.notify_citizen",
    ]


def test_runaway_render_time_limit_is_the_workers_not_the_publishers(clean_broker):
    """Regression: a task published by the web process carried the web process's time
    limits in its message, and Celery prefers those to the worker's own; with the PDFs
    enqueued at submit, a worker's PORTAL_PDF_TIME_LIMIT no longer stopped a runaway
    render. The message carries none, so the worker's limits (and claims) apply."""
    from submissions import tasks
    from submissions.enqueue import task_enqueue

    assert tasks.render_pdfs.time_limit  # the task has limits of its own
    assert task_enqueue(task=tasks.render_pdfs, args=(1,), about="submission X")
    (raw,) = clean_broker.lrange("pdf", 0, -1)
    assert json.loads(raw)["headers"]["timelimit"] == [None, None]
