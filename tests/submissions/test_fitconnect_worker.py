"""FIT-Connect end to end: a Gewerbe-Anmeldung filed, delivered by a real worker to the
FIT-Connect stand-in, decrypted there, then accepted or rejected through the event log.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from forms_catalog.models import Service
from forms_catalog.services import catalogue_load
from municipalities.models import ResponsibilityRule
from submissions.models import Delivery, Submission
from submissions.pdf import export_json
from submissions.pipeline import pipeline_sweep
from submissions.references import status_link_token
from tests.backoffice.backoffice_support import make_staff
from tests.factories import GemeindeFactory, OfficeFactory
from tests.forms_catalog.helpers import GEWERBE_GMBH_PAGES, PDF_BYTES, pdf
from tests.support.worker import FAST_RECOVERY_ENV, wait_until
from thueringen_portal.celery import app as celery_app

pytestmark = [pytest.mark.worker]

SYNC_TASK = "submissions.tasks.sync_fitconnect_status"


# A GmbH's branch with a permit and a residence title: two uploads.
PAGES = GEWERBE_GMBH_PAGES
PERMIT = PDF_BYTES.replace(b"%%EOF", b"% Gewerbeerlaubnis\n%%EOF")
RESIDENCE = PDF_BYTES.replace(b"%%EOF", b"% Aufenthaltstitel\n%%EOF")


@pytest.fixture
def connected_office(transactional_db, fitconnect):
    """Weimar's town hall, connected to the stand-in by FIT-Connect."""
    cache.clear()  # the citizen views' rate limits
    catalogue_load()
    service = Service.objects.get(slug="gewerbe-anmeldung")
    gemeinde = GemeindeFactory(name="Weimar")
    office = OfficeFactory(
        name="Stadtverwaltung Weimar", verband=gemeinde.verband, **fitconnect.office_settings()
    )
    ResponsibilityRule.objects.get_or_create(
        service=service, defaults={"level": ResponsibilityRule.Level.MUNICIPAL_ADMINISTRATION}
    )
    fitconnect.services = [f"urn:de:fim:leika:leistung:{service.leistungsschluessel}"]
    return {"service": service, "gemeinde": gemeinde, "office": office}


def file_gewerbe_anmeldung(setup) -> Submission:
    """The citizen's journey through the citizen views: every step, two uploads, check, submit."""
    client = Client()
    gemeinde = setup["gemeinde"]
    response = client.post(f"/gemeinden/{gemeinde.ags}/leistungen/gewerbe-anmeldung/")
    assert response.status_code == 302, response.content[:500]
    location = response["Location"]
    draft_id = re.search(r"/antrag/([0-9a-f-]{36})/", location).group(1)
    files = {
        "erlaubnisse": {
            "permit_file": pdf("erlaubnis.pdf", PERMIT),
            "residence_file": pdf("titel.pdf", RESIDENCE),
        }
    }
    visited = []
    for _ in range(20):
        if location.endswith("/pruefen/"):
            break
        if "/schritt/" not in location:
            location = client.get(location)["Location"]
            continue
        step = location.rstrip("/").rsplit("/", 1)[1]
        visited.append(step)
        data = {f"{step}-{key}": value for key, value in PAGES.get(step, {}).items()}
        data.update({f"{step}-{key}": value for key, value in files.get(step, {}).items()})
        response = client.post(location, data)
        assert response.status_code == 302, (step, response.content.decode()[:3000])
        location = response["Location"]
    assert visited[:2] == ["betrieb", "person"] and "erlaubnisse" in visited
    response = client.post(f"/antrag/{draft_id}/pruefen/", {"declaration": "on"})
    assert response.status_code == 302, response.content.decode()[:3000]
    return Submission.objects.get(service=setup["service"], gemeinde=gemeinde)


@pytest.fixture
def worker_env(_private_media, smtp_server) -> dict[str, str]:
    return {
        "PORTAL_MEDIA_ROOT": str(_private_media),
        "PORTAL_STORAGE_BACKEND": "local",
        "EMAIL_HOST": smtp_server.host,
        "EMAIL_PORT": str(smtp_server.port),
        "PORTAL_ADMIN_EMAILS": "admins@portal.example",
        "PORTAL_DELIVERY_BACKOFF_BASE_SECONDS": "1",
        "PORTAL_DELIVERY_BACKOFF_MAX_SECONDS": "2",
    }


def fitconnect_delivery(submission: Submission) -> Delivery:
    return Delivery.objects.get(submission=submission, channel="fitconnect")


def delivered(submission: Submission, *, sweep: bool = False) -> bool:
    if sweep:
        pipeline_sweep()
    return Delivery.objects.filter(
        submission=submission, channel="fitconnect", status=Delivery.Status.DELIVERED
    ).exists()


def status_page(submission: Submission) -> str:
    token = status_link_token(
        reference=submission.reference, access_secret_hash=submission.access_secret_hash
    )
    url = reverse("citizen:status_link", kwargs={"reference": submission.reference, "token": token})
    response = Client().get(url, follow=True)
    assert response.status_code == 200
    return response.content.decode()


def assert_received_exactly_what_we_stored(fitconnect, submission: Submission) -> None:
    received = fitconnect.only_submission()
    assert received.submitted
    delivery = fitconnect_delivery(submission)
    assert (delivery.remote_id, delivery.remote_case_id) == (
        received.submission_id,
        received.case_id,
    )
    assert received.service_type["identifier"] == "urn:de:fim:leika:leistung:99050012104000"
    # The data is our JSON export, byte for byte.
    assert received.data == export_json(submission)
    assert json.loads(received.data)["answers"]
    # Announced in our order, uploaded in that order, each decrypted to what we stored.
    assert received.uploads == received.announced
    listed = received.metadata["contentStructure"]["attachments"]
    assert [a["attachmentId"] for a in listed] == received.announced
    with submission.office_pdf.open("rb") as handle:
        office_pdf = handle.read()
    expected = {
        f"antrag-{submission.reference}.pdf": office_pdf,
        f"antrag-{submission.reference}.json": export_json(submission),
        "erlaubnis.pdf": PERMIT,
        "titel.pdf": RESIDENCE,
    }
    for entry in listed:
        content = received.attachments[entry["attachmentId"]]
        assert content == expected.pop(entry["filename"])
        assert entry["hash"] == {"type": "sha512", "content": hashlib.sha512(content).hexdigest()}
    assert expected == {}
    assert office_pdf.startswith(b"%PDF")
    data_hash = received.metadata["contentStructure"]["data"]["hash"]["content"]
    assert data_hash == hashlib.sha512(received.data).hexdigest()


def test_gewerbe_anmeldung_reaches_the_fachverfahren_by_fitconnect_and_its_acceptance_shows(
    connected_office, fitconnect, smtp_server, worker_env, start_worker
):
    worker = start_worker(env=worker_env)
    submission = file_gewerbe_anmeldung(connected_office)
    wait_until(lambda: delivered(submission), timeout=90, message=worker.log())
    submission.refresh_from_db()
    assert_received_exactly_what_we_stored(fitconnect, submission)
    assert fitconnect_delivery(submission).remote_status == "submitted"
    assert submission.status == Submission.Status.FORWARDED  # by the back-office inbox

    fitconnect.accept(fitconnect.only_submission().submission_id)
    celery_app.send_task(SYNC_TASK)
    wait_until(
        lambda: fitconnect_delivery(submission).remote_status == "accepted",
        timeout=30,
        message=worker.log(),
    )
    submission.refresh_from_db()
    assert submission.status == Submission.Status.IN_PROGRESS
    assert submission.events.filter(kind="fitconnect_accepted").count() == 1
    assert "in Bearbeitung" in status_page(submission)
    # Read again: applied once only.
    celery_app.send_task(SYNC_TASK)
    celery_app.send_task(SYNC_TASK)
    assert submission.events.filter(kind="fitconnect_accepted").count() == 1


def test_rejected_submission_shows_the_reason_to_staff(
    connected_office, fitconnect, smtp_server, worker_env, start_worker
):
    worker = start_worker(env=worker_env)
    submission = file_gewerbe_anmeldung(connected_office)
    wait_until(lambda: delivered(submission), timeout=90, message=worker.log())
    fitconnect.reject(
        fitconnect.only_submission().submission_id,
        [
            {
                "type": "https://schema.fitko.de/fit-connect/events/problems/missing-attachment",
                "title": "Anlage fehlt",
                "detail": "Die Handwerkskarte liegt nicht bei.",
                "instance": "submission",
            }
        ],
    )
    celery_app.send_task(SYNC_TASK)
    wait_until(
        lambda: fitconnect_delivery(submission).remote_status == "rejected",
        timeout=30,
        message=worker.log(),
    )
    delivery = fitconnect_delivery(submission)
    assert delivery.status == Delivery.Status.FAILED
    assert "Die Handwerkskarte liegt nicht bei." in delivery.remote_problems
    clerk = make_staff("weimar_clerk", "clerk", [connected_office["office"]])
    page = clerk.client.get(f"/admin/submissions/submission/{submission.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "zurückgewiesen" in html
    assert "Anlage fehlt: Die Handwerkskarte liegt nicht bei." in html
    # The rejection is for staff: the citizen's page does not show the internal reason.
    assert "Handwerkskarte" not in status_page(submission)
    alerts = [m for m in smtp_server.messages if "admins@portal.example" in m.rcpt_to]
    assert any("zurückgewiesen" in m.message["Subject"] for m in alerts)


def test_worker_killed_between_create_and_submit_resumes_the_same_submission(
    connected_office, fitconnect, smtp_server, worker_env, start_worker, settings
):
    settings.PORTAL_STEP_UNCLAIMED_SECONDS = 2
    fitconnect.hold_upload = threading.Event()
    # The killed worker's claim on the delivery expires after its short limits.
    first = start_worker(env={**worker_env, **FAST_RECOVERY_ENV})
    submission = file_gewerbe_anmeldung(connected_office)
    assert fitconnect.held.wait(90), first.log()
    wait_until(lambda: fitconnect_delivery(submission).remote_id, timeout=10)
    # Created and recorded, mid-upload: the worker dies.
    first.kill()
    fitconnect.hold_upload.set()
    fitconnect.hold_upload = None
    second = start_worker(env=worker_env)
    wait_until(
        lambda: delivered(submission, sweep=True),
        timeout=90,
        interval=1,
        message=second.log(),
    )
    submission.refresh_from_db()
    # One FIT-Connect submission, continued, not a second one.
    assert len(fitconnect.submissions) == 1
    assert_received_exactly_what_we_stored(fitconnect, submission)
