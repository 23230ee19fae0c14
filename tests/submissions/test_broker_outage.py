"""Redis goes away: workers ride it out, citizens still get their confirmation.

Found in a chaos run: every worker alive when Redis was SIGKILLed exited with
``Unrecoverable error: AttributeError(... 'hostname')``, and a submit while
the broker was down gave the citizen an error page for a stored application.
Both run here against a redis-server of the test's own (the shared one is
never touched) and a real worker process.
"""

from __future__ import annotations

import logging
import re
import signal
import threading
import time

import pytest
from django.db import connection

from submissions.models import Submission
from submissions.references import access_secret_matches
from tests.citizen.citizen_support import municipal_rule, municipality, pdf_upload, publish
from tests.submissions import test_pipeline_worker as pipeline_worker
from tests.submissions.test_pipeline_worker import all_done, broker, submit
from tests.support.redis_server import free_port
from tests.support.worker import wait_until

pytestmark = [pytest.mark.worker]

# The fixtures of the pipeline's worker tests, shared rather than copied.
office = pipeline_worker.office
pipeline_env = pipeline_worker.pipeline_env
fast_sweeper = pipeline_worker.fast_sweeper
throwaway_redis = pipeline_worker.throwaway_redis


def sigkill(redis_server) -> None:
    """Kill the broker as a crash or the OOM killer would: no shutdown, no final save."""
    redis_server.process.send_signal(signal.SIGKILL)
    redis_server.process.wait(10)


def test_worker_survives_redis_killed_under_a_running_task_and_processes_new_work(
    office_setup,
    office,
    webhook_receiver,
    pipeline_env,
    start_worker,
    fast_sweeper,
    throwaway_redis,
):
    # Two slots: one held by a webhook delivery that does not return, the other
    # waiting for work on the broker, which is how the crash happened.
    webhook_receiver.hold = threading.Event()
    webhook_receiver.hold_timeout = 60
    env = {**pipeline_env, "CELERY_BROKER_URL": throwaway_redis.url}
    with broker(throwaway_redis.url):
        worker = start_worker(env=env, concurrency=2)
        first = submit(office_setup, 1)
        assert webhook_receiver.held.wait(60), f"the webhook was never called:\n{worker.log()}"
        time.sleep(1)  # the free slot is back in BRPOP
        sigkill(throwaway_redis)
        time.sleep(1.5)
        throwaway_redis.start()  # same port, same append-only file
        webhook_receiver.hold.set()
        webhook_receiver.hold = None
        # New work is picked up from the queue by the same worker: no sweeper, no restart.
        later = submit(office_setup, 1)
        wait_until(
            lambda: worker.process.poll() is not None or all_done(later),
            timeout=90,
            interval=0.5,
            message=f"the worker did not process new work after Redis came back:\n{worker.log()}",
        )
        assert worker.process.poll() is None, f"the worker exited:\n{worker.log()}"
        assert "Unrecoverable error" not in worker.log()
        # The delivery cut off by the outage is finished too (its step is recorded as due).
        wait_until(
            lambda: all_done(first, sweep=True),
            timeout=90,
            interval=0.5,
            message=f"the interrupted submission was not finished:\n{worker.log()}",
        )
        assert worker.process.poll() is None
    # Exactly one webhook processed per delivery: the interrupted attempt was retried
    # with the same Idempotency-Key.
    keys = webhook_receiver.processed_keys
    assert len(keys) == len(set(keys)) == 2
    connection.close()


CHECK_ANSWERS = {
    "halter-vorname": "Erika",
    "halter-nachname": "Mustermann",
    "halter-email": "erika.mustermann@example.org",
}


def test_submit_while_the_broker_is_down_shows_confirmation_with_access_code(
    client,
    transactional_db,
    pipeline_env,
    start_worker,
    fast_sweeper,
    smtp_server,
    tmp_path,
    caplog,
):
    from django.core.cache import cache

    cache.clear()
    version = publish()
    municipal_rule(version.service)
    gemeinde, _office = municipality("Rhönblick", "Gemeindeverwaltung Rhönblick")
    port = free_port()  # nothing listens here
    down = f"redis://127.0.0.1:{port}/0"
    caplog.set_level(logging.WARNING)
    with broker(down):
        response = client.post(f"/gemeinden/{gemeinde.ags}/leistungen/hundeanmeldung/")
        draft_id = re.search(r"/antrag/([0-9a-f-]{36})/", response["Location"]).group(1)
        base = f"/antrag/{draft_id}"
        assert client.post(f"{base}/schritt/halter/", CHECK_ANSWERS).status_code == 302
        dog = {"hund-hundename": "Bello", "hund-gefaehrlich": "no"}
        assert client.post(f"{base}/schritt/hund/", dog).status_code == 302
        upload = {"nachweise-versicherung": pdf_upload()}
        assert client.post(f"{base}/schritt/nachweise/", upload).status_code == 302
        started = time.monotonic()
        response = client.post(f"{base}/pruefen/", {"declaration": "on"})
        took = time.monotonic() - started
    assert response.status_code == 302, response.content[:2000]
    submission = Submission.objects.get()
    assert response["Location"] == f"/bestaetigung/{submission.reference}/"
    # A dead broker costs the citizen a moment, not a minute.
    assert took < 10, f"submitting took {took:.1f} s with the broker down"
    print(f"submit with the broker down took {took:.2f} s")
    page = client.get(response["Location"]).content.decode()
    assert submission.reference in page
    codes = re.findall(r"\b[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}\b", page)
    assert any(access_secret_matches(code, submission.access_secret_hash) for code in codes), page
    # The failure is logged for operators, with the reference and without personal data.
    logged = [r for r in caplog.records if r.name == "submissions.enqueue"]
    assert logged and all(r.levelno == logging.ERROR for r in logged)
    text = "\n".join(r.getMessage() for r in logged)
    assert submission.reference in text
    for personal in ("Erika", "Mustermann", "erika.mustermann@example.org", "Bello"):
        assert personal not in text
    # Resolved in the submit transaction; the first task (the PDFs') is what waits.
    assert submission.office_resolved_at is not None and submission.pdfs_rendered_at is None

    # The broker comes back on that port; a worker and the sweeper finish the job.
    from tests.support.redis_server import ThrowawayRedis

    directory = tmp_path / "redis"
    directory.mkdir()
    redis_server = ThrowawayRedis(directory)
    redis_server.port = port
    redis_server.start()
    try:
        env = {**pipeline_env, "CELERY_BROKER_URL": redis_server.url}
        with broker(redis_server.url):
            worker = start_worker(env=env)
            wait_until(
                lambda: all_done([submission], sweep=True),
                timeout=120,
                interval=0.5,
                message=f"the stored submission was not processed:\n{worker.log()}",
            )
    finally:
        redis_server.stop()
    submission.refresh_from_db()
    assert submission.status == Submission.Status.FORWARDED
    receipts = [m for m in smtp_server.messages if submission.reference in m.message["Subject"]]
    assert [m.rcpt_to for m in receipts] == [["erika.mustermann@example.org"]]
    connection.close()


def test_enqueue_to_a_broker_that_accepts_but_never_answers_gives_up_within_seconds(caplog):
    """A half-dead broker (failover, firewall) must not hold a request for minutes."""
    import socket

    from submissions import tasks
    from submissions.enqueue import task_enqueue

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)  # the kernel completes the handshake; nobody ever answers
    try:
        with broker(f"redis://127.0.0.1:{silent.getsockname()[1]}/0"):
            started = time.monotonic()
            queued = task_enqueue(task=tasks.resolve_office, args=(1,), about="submission X")
            took = time.monotonic() - started
    finally:
        silent.close()
    assert queued is False
    assert took < 15, f"the publish waited {took:.1f} s"
    assert any(
        r.name == "submissions.enqueue" and "submission X" in r.getMessage() for r in caplog.records
    )
