"""Structured logs: JSON lines with request id and submission reference, never personal data."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import smtplib
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.utils.module_loading import import_string

from submissions import log_context, tasks
from submissions.models import Submission
from submissions.services import submission_submit
from tests.factories import SubmissionFactory
from tests.submissions.conftest import make_answers, make_draft
from tests.support.worker import wait_until

HEX32 = re.compile(r"[0-9a-f]{32}")
NAME = "Zoë O'Hostile-Mustermann <script>"
EMAIL = "zoe.leak+portal@example.org"


@contextmanager
def json_log_lines(settings) -> Iterator[list[dict]]:
    """Every record logged inside the block, formatted as the production handler does."""
    stream = io.StringIO()
    config = settings.LOGGING
    handler = logging.StreamHandler(stream)
    handler.setFormatter(import_string(config["formatters"]["json"]["()"])())
    handler.addFilter(import_string(config["filters"]["context"]["()"])())
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    lines: list[dict] = []
    try:
        yield lines
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
        lines.extend(json.loads(line) for line in stream.getvalue().splitlines())


def settings_in_subprocess(env: dict[str, str]) -> subprocess.CompletedProcess:
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "import logging; print(settings.PORTAL_LOG_FORMAT); logging.getLogger('x').warning('hi')"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "thueringen_portal.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_logs_json_and_make_run_stays_readable():
    production = settings_in_subprocess({"DJANGO_DEBUG": "false", "PORTAL_LOG_FORMAT": ""})
    assert production.stdout.split() == ["json"], production.stderr
    assert json.loads(production.stderr.splitlines()[-1])["message"] == "hi"
    development = settings_in_subprocess({"DJANGO_DEBUG": "true", "PORTAL_LOG_FORMAT": ""})
    assert development.stdout.split() == ["plain"], development.stderr
    assert re.search(r" WARNING x hi$", development.stderr.splitlines()[-1])


def test_an_unknown_log_format_stops_the_start_with_a_clear_message():
    result = settings_in_subprocess({"PORTAL_LOG_FORMAT": "xml"})
    assert result.returncode != 0
    assert "PORTAL_LOG_FORMAT must be json or plain" in result.stderr


@pytest.mark.django_db
def test_a_request_log_line_is_json_with_the_request_id_of_the_response(client, settings):
    with json_log_lines(settings) as lines:
        response = client.get("/gibt-es-nicht/")
    assert response.status_code == 404
    request_id = response["X-Request-ID"]
    assert HEX32.fullmatch(request_id)
    line = next(line for line in lines if line["logger"] == "django.request")
    assert set(line) == {"timestamp", "level", "logger", "message", "request_id", "submission"}
    assert line["level"] == "WARNING"
    assert line["message"] == "Not Found: /gibt-es-nicht/"
    assert line["request_id"] == request_id
    assert line["submission"] is None
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+\+00:00", line["timestamp"])


@pytest.mark.django_db
def test_each_request_gets_its_own_id_and_it_does_not_leak_into_the_next(client):
    first = client.get("/healthz")["X-Request-ID"]
    second = client.get("/healthz")["X-Request-ID"]
    assert first != second
    assert log_context.request_id.get() is None


@pytest.mark.django_db
def test_the_proxy_request_id_is_kept_when_well_formed(client, settings):
    settings.PORTAL_REQUEST_ID_HEADER = "X-Request-ID"
    for value in ["0f8e4c2d9b7a41e3a5c6d7e8f9a0b1c2", "3b241101-e2bb-4255-8caf-4136c566a962"]:
        assert client.get("/healthz", headers={"X-Request-ID": value})["X-Request-ID"] == value


@pytest.mark.django_db
@pytest.mark.parametrize(
    "hostile",
    [
        "short",
        "abc\r\nX-Injected: 1",
        '"}, {"level": "CRITICAL"',
        "<script>alert(1)</script>",
        "a" * 65,
        "0f8e4c2d9b7a41e3\x00a5c6d7e8f9a0b1c2",
        "ünïcödé-request-id",
    ],
)
def test_a_hostile_request_id_is_replaced_not_logged(client, settings, hostile):
    settings.PORTAL_REQUEST_ID_HEADER = "X-Request-ID"
    with json_log_lines(settings) as lines:
        response = client.get("/gibt-es-nicht/", headers={"X-Request-ID": hostile})
    assert HEX32.fullmatch(response["X-Request-ID"])
    assert all(line["request_id"] == response["X-Request-ID"] for line in lines)
    assert not any(hostile in json.dumps(line) for line in lines)


@pytest.mark.django_db
def test_the_request_id_header_is_ignored_unless_a_proxy_is_configured(client, settings):
    settings.PORTAL_REQUEST_ID_HEADER = ""
    value = "0f8e4c2d9b7a41e3a5c6d7e8f9a0b1c2"
    assert client.get("/healthz", headers={"X-Request-ID": value})["X-Request-ID"] != value


def test_a_refused_recipient_address_is_masked_in_a_logged_traceback(settings):
    with json_log_lines(settings) as lines:
        try:
            raise smtplib.SMTPRecipientsRefused({EMAIL: (550, b"5.1.1 mailbox unavailable")})
        except smtplib.SMTPRecipientsRefused as exc:
            logging.getLogger("submissions.drafts").exception("mail failed: %s", exc)
    (line,) = lines
    assert EMAIL not in json.dumps(line)
    assert "<e-mail>" in line["message"] and "<e-mail>" in line["exc_info"]
    assert "SMTPRecipientsRefused" in line["exc_info"]


def test_plain_lines_carry_the_context_and_mask_addresses_too(settings):
    from thueringen_portal.logs import LogContextFilter, PlainFormatter

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(PlainFormatter(settings.LOGGING["formatters"]["plain"]["format"]))
    handler.addFilter(LogContextFilter())
    logger = logging.getLogger("tests.plain")
    logger.addHandler(handler)
    token = log_context.submission_reference.set("TH-2026-0001-ABCD")
    try:
        logger.warning("could not mail %s", EMAIL)
    finally:
        log_context.submission_reference.reset(token)
        logger.removeHandler(handler)
    text = stream.getvalue()
    assert text.endswith("could not mail <e-mail> [submission=TH-2026-0001-ABCD]\n")


def json_records(text: str, *, running: bool = False) -> list[dict]:
    """The JSON log lines of a worker's output (its start-up banner is plain text).

    While the worker runs, its last line may be half written.
    """
    lines = [raw for raw in text.splitlines() if raw.startswith("{")]
    if running and lines and not text.endswith("\n"):
        lines.pop()
    return [json.loads(raw) for raw in lines]


@pytest.fixture
def office_with_mail(office_setup):
    office = office_setup["office"]
    office.notification_email = "eingang@vg-teststadt.example"
    office.save()
    return office_setup


def test_worker_logs_json_with_the_submission_reference_and_no_personal_data(
    start_worker, office_with_mail, smtp_server, _private_media
):
    worker = start_worker(
        env={
            "PORTAL_LOG_FORMAT": "json",
            "PORTAL_MEDIA_ROOT": str(_private_media),
            "PORTAL_STORAGE_BACKEND": "local",
            "EMAIL_HOST": smtp_server.host,
            "EMAIL_PORT": str(smtp_server.port),
        }
    )
    # Submitted as inside a web request with this id (the middleware sets it so).
    token = log_context.request_id.set("0f8e4c2d9b7a41e3a5c6d7e8f9a0b1c2")
    try:
        submission, _secret = submission_submit(
            draft=make_draft(office_with_mail),
            answers=make_answers(name=NAME, email=EMAIL),
            language="de",
        )
    finally:
        log_context.request_id.reset(token)
    wait_until(
        lambda: Submission.objects.filter(
            pk=submission.pk, citizen_notified_at__isnull=False, delivered_at__isnull=False
        ).exists(),
        timeout=90,
        message=f"not processed:\n{worker.log()}",
    )
    # The citizen's receipt went to the citizen: the data was really processed.
    assert any(EMAIL in mail.rcpt_to for mail in smtp_server.messages)
    # A re-run enqueued outside any request (as the sweeper does), in the same pool process.
    # (The office was resolved at submit, so this is the step's only run.)
    tasks.resolve_office.delay(submission.pk)
    wait_until(
        lambda: (
            len(
                [
                    r
                    for r in json_records(worker.log_path.read_text(), running=True)
                    if "resolve_office" in r["message"] and "succeeded" in r["message"]
                ]
            )
            == 1
        ),
        message=f"re-run not seen:\n{worker.log()}",
    )
    worker.stop()
    text = worker.log_path.read_text()
    records = json_records(text)
    about_it = [r for r in records if r["submission"] == submission.reference]
    succeeded = [r for r in about_it if "succeeded" in r["message"]]
    tasks_done = {r["message"].split("[")[0].removeprefix("Task ") for r in succeeded}
    assert {
        "submissions.tasks.resolve_office",
        "submissions.tasks.render_pdfs",
        "submissions.tasks.deliver_delivery",
        "submissions.tasks.notify_citizen",
    } <= tasks_done, text[-3000:]
    assert all(r["level"] and r["logger"] and r["timestamp"] for r in records)
    # The submit request's id followed the submission through every task of the chain ...
    (rerun,) = [r for r in succeeded if "resolve_office" in r["message"]]
    chain = [r for r in succeeded if r is not rerun]
    assert {r["request_id"] for r in chain} == {"0f8e4c2d9b7a41e3a5c6d7e8f9a0b1c2"}
    # ... and did not stick to the worker process: the re-run has none.
    assert rerun["request_id"] is None and rerun["submission"] == submission.reference
    for needle in [EMAIL, "zoe.leak", "Hostile", "Zoë", "Zo\\u00eb"]:
        assert needle not in text, f"{needle!r} in the worker log"


@pytest.mark.django_db
def test_a_task_run_in_process_keeps_the_request_id_and_forgets_its_submission(settings):
    """The embedded default (`make run`) runs tasks inside the request."""
    submission = SubmissionFactory(reference="TH-2026-EAGR-0001")
    token = log_context.request_id.set("0f8e4c2d9b7a41e3a5c6d7e8f9a0b1c2")
    try:
        with json_log_lines(settings) as lines:
            tasks.resolve_office.apply(args=(submission.pk,))
        assert log_context.request_id.get() == "0f8e4c2d9b7a41e3a5c6d7e8f9a0b1c2"
        assert log_context.submission_reference.get() is None
    finally:
        log_context.request_id.reset(token)
    inside = [line for line in lines if line["submission"] == "TH-2026-EAGR-0001"]
    assert inside and all(
        line["request_id"] == "0f8e4c2d9b7a41e3a5c6d7e8f9a0b1c2" for line in inside
    )


@pytest.mark.django_db
def test_a_server_error_is_logged_without_mailing_the_citizens_answers_to_admins(
    settings, mailoutbox, rf
):
    settings.ADMINS = [("Platform", "admins@portal.example")]
    request = rf.post("/antrag/x/schritt/person/", {"name": NAME, "email": EMAIL})
    with json_log_lines(settings) as lines:
        try:
            raise ValueError("step could not be saved")
        except ValueError:
            logging.getLogger("django.request").error(
                "Internal Server Error: %s",
                request.path,
                exc_info=True,
                extra={"status_code": 500, "request": request},
            )
    assert mailoutbox == []
    (line,) = lines
    assert line["level"] == "ERROR" and "ValueError" in line["exc_info"]
    assert "Hostile" not in json.dumps(line) and EMAIL not in json.dumps(line)
