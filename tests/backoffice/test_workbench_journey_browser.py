"""The clerk's whole day with one case, in real browsers, with the citizen in the loop.

A clerk logs in with TOTP, finds the new case on the start page, takes it, asks a
Rückfrage from the office's template with a deadline; the citizen answers with an
upload on the status page; the clerk sees the answer and approves with a Bescheid
after the confirmation page; the citizen downloads the Bescheid; the office lead
reopens the decision with a reason. Every step shows in the case's history and the
audit log in German words. A clerk of another office gets 404 at every URL of the
case, the new ones included, and each refusal is audited. axe-core on every page.
"""

from __future__ import annotations

import datetime
import io
import re

import pypdf
import pytest
from axe_playwright_python.sync_playwright import Axe
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from backoffice.models import AuditEntry, MessageTemplate
from submissions.models import Attachment, DecisionLetter, InfoRequest, Submission
from submissions.references import status_link_token
from tests.backoffice.backoffice_support import current_totp, make_staff
from tests.factories import OfficeFactory
from tests.submissions.conftest import office_setup  # noqa: F401 - fixture
from tests.submissions.info_request_support import PDF, filed

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WCAG_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
BASE = "/admin/submissions/submission"


def _axe(page, label: str, reports: list[str]) -> None:
    results = Axe().run(page, options=WCAG_AA)
    assert results.response.get("testEngine", {}).get("name") == "axe-core"
    if results.violations_count:
        reports.append(f"{label} ({page.url}):\n{results.generate_report()}")


def _staff_page(browser, request, url: str, staff):
    context = browser.new_context(locale="de-DE", accept_downloads=True)
    request.addfinalizer(context.close)
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.goto(url + "/admin/login/?next=/admin/")
    page.fill("#id_username", staff.user.username)
    page.fill("#id_password", staff.password)
    page.fill("#id_otp_token", current_totp(staff.user))
    page.click("input[type=submit]")
    page.wait_for_url(url + "/admin/")
    return page


def _pdf_text(data: bytes) -> str:
    assert data.startswith(b"%PDF-")
    return "\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(data)).pages)


def test_clerk_citizen_and_lead_work_one_case_and_another_office_gets_404_everywhere(
    live_server,
    browser,
    office_setup,  # noqa: F811 - the imported fixture
    clean_broker,
    request,
):
    submission, _secret = filed(office_setup)
    office = office_setup["office"]
    MessageTemplate.objects.create(
        office=office,
        service=office_setup["service"],
        title="Nachweis fehlt",
        body="Guten Tag,\nfür {aktenzeichen} fehlt der Nachweis. Bitte laden Sie ihn bis "
        "{frist} hoch.\n{behoerde}",
    )
    clerk = make_staff("journey_clerk", "clerk", [office], login=False)
    clerk.user.first_name, clerk.user.last_name = "Clara", "Sachbearbeiterin"
    clerk.user.save()
    lead = make_staff("journey_lead", "lead", [office], login=False)
    url = live_server.url
    case_url = f"{url}{BASE}/{submission.pk}/change/"
    reports: list[str] = []

    # --- The clerk: start page, the new case, take it, work it.
    page = _staff_page(browser, request, url, clerk)
    expect(page.locator("h1")).to_have_text("Meine Fälle")
    new_cases = page.locator("section", has_text="Neu / nicht zugewiesen in meinen Behörden")
    expect(new_cases.get_by_role("link", name=submission.reference)).to_be_visible()
    _axe(page, "start page", reports)
    new_cases.get_by_role("link", name=submission.reference).click()
    expect(page).to_have_title(re.compile(submission.reference))
    page.get_by_role("button", name="Antrag übernehmen").click()
    expect(page.locator(".messagelist")).to_be_visible()
    page.select_option("#id_to_status", "in_progress")
    page.get_by_role("button", name="Status ändern und benachrichtigen").click()
    expect(page.locator(".messagelist")).to_be_visible()
    assert Submission.objects.get(pk=submission.pk).status == "in_progress"

    # A Rückfrage from the office's template, with a deadline.
    page.get_by_test_id("ask-info").click()
    expect(page.locator("h1")).to_contain_text(f"Rückfrage zum Antrag {submission.reference}")
    page.select_option("#id_vorlage", label="Nachweis fehlt")
    page.get_by_test_id("use-template").click()
    expect(page.locator("#id_question")).to_have_value(re.compile("fehlt der Nachweis"))
    deadline = timezone.localdate() + datetime.timedelta(days=10)
    page.fill("#id_deadline", deadline.isoformat())
    _axe(page, "ask page", reports)
    page.get_by_test_id("send-info-request").click()
    expect(page.locator(".messagelist")).to_contain_text("Rückfrage gesendet")
    expect(page.get_by_test_id("case-rueckfrage")).to_contain_text("offen, Antwort ausstehend")
    info = InfoRequest.objects.get(submission=submission)
    assert info.deadline == deadline

    # --- The citizen answers with an upload, through the personal status link.
    submission.refresh_from_db()
    token = status_link_token(
        reference=submission.reference, access_secret_hash=submission.access_secret_hash
    )
    citizen_context = browser.new_context(locale="de-DE", accept_downloads=True)
    request.addfinalizer(citizen_context.close)
    citizen = citizen_context.new_page()
    citizen.set_default_timeout(20_000)
    status_link = url + reverse(
        "citizen:status_link", kwargs={"reference": submission.reference, "token": token}
    )
    citizen.goto(status_link)
    expect(citizen.get_by_test_id("info-question")).to_contain_text("fehlt der Nachweis")
    citizen.get_by_label("Ihre Antwort").fill("Anbei der Nachweis.")
    citizen.set_input_files(
        "#id_files", files=[{"name": "nachweis.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    citizen.get_by_test_id("info-send").click()
    expect(citizen.get_by_test_id("info-answered")).to_contain_text("Ihre Antwort ist eingegangen")
    _axe(citizen, "status page after the answer", reports)

    # --- The clerk sees the answer and the file, and approves with a Bescheid.
    page.goto(case_url)
    expect(page.get_by_test_id("info-answer")).to_contain_text("Anbei der Nachweis.")
    expect(
        page.get_by_test_id("info-answer-files").get_by_role("link", name="nachweis.pdf")
    ).to_be_visible()
    # The answer's file is also among the case's documents, under its own heading.
    documents = page.locator("section[aria-labelledby=case-documents]")
    expect(documents).to_contain_text("Antworten auf Rückfragen")
    expect(documents).to_contain_text("nachweis.pdf")
    panel = page.locator("section.decision-panel")
    panel.get_by_label("bewilligen").check()
    page.fill("#id_decision_message", "Ihr Hund ist angemeldet.")
    expect(page.locator("#id_with_letter")).to_be_checked()
    page.get_by_role("button", name="Weiter zur Bestätigung").click()
    expect(page.get_by_test_id("confirm-outcome")).to_have_text("bewilligt")
    _axe(page, "confirmation page", reports)
    assert Submission.objects.get(pk=submission.pk).status == "in_progress"  # not yet
    page.get_by_role("button", name="Entscheidung endgültig absenden").click()
    expect(page.locator(".messagelist .success").first).to_contain_text("bewilligt")
    assert Submission.objects.get(pk=submission.pk).status == "approved"
    letter = DecisionLetter.objects.get(submission=submission)

    # --- The citizen downloads the Bescheid from the status page.
    citizen.goto(status_link)
    expect(citizen.get_by_test_id("status")).to_have_text("bewilligt")
    with citizen.expect_download() as download_info:
        citizen.get_by_test_id("decision-letter-current").click()
    with open(download_info.value.path(), "rb") as handle:
        text = _pdf_text(handle.read())
    assert submission.reference in text and "Rechtsbehelfsbelehrung" in text
    assert "Ihr Hund ist angemeldet." in text

    # --- The office lead reopens the decision with a reason.
    lead_page = _staff_page(browser, request, url, lead)
    lead_page.goto(case_url)
    lead_page.get_by_role("link", name="Entscheidung wieder aufnehmen").click()
    lead_page.fill("#id_reason", "Die Steuerklasse war falsch.")
    lead_page.get_by_role("button", name="Wieder aufnehmen").click()
    expect(lead_page.locator(".messagelist .success").first).to_contain_text(
        "wieder in Bearbeitung"
    )
    assert Submission.objects.get(pk=submission.pk).status == "in_progress"

    # Each step in the history and the audit log, in German words and local time.
    history = lead_page.locator("section[aria-labelledby=case-history]")
    for words in (
        "Rückfrage gestellt",
        "Antwort der antragstellenden Person eingegangen",
        "Bescheid erstellt",
        "Entscheidung wiedereröffnet",
        "Die Steuerklasse war falsch.",
        "Clara Sachbearbeiterin",
    ):
        expect(history).to_contain_text(words)
    expect(history).to_contain_text(re.compile(r"\d\d\.\d\d\.\d{4}, \d\d:\d\d Uhr"))
    for raw in ("info_requested", "info_answered", "decision_letter_issued", "case_reopened"):
        expect(history).not_to_contain_text(raw)
    audit = lead_page.locator("section[aria-labelledby=case-audit]")
    for words in ("Bescheid erstellt", "Entscheidung wieder aufgenommen"):
        expect(audit).to_contain_text(words)
    _axe(lead_page, "case page after the journey", reports)

    # --- A clerk of another office: 404 at every URL of this case, each refusal audited.
    intruder = make_staff("journey_intruder", "clerk", [OfficeFactory(name="Andere Behörde")])
    answer_file = Attachment.objects.get(info_request=info)
    case = f"{BASE}/{submission.pk}"
    gets = [
        f"{case}/change/",
        f"{case}/rueckfrage/",
        f"{case}/decision/",
        f"{case}/decision/letter/{letter.pk}/",
        f"{case}/decision/reopen/",
        f"{case}/decision/correct/",
        f"{case}/unterlagen-zip/",
        f"{case}/fachverfahren-zip/",
        f"{case}/pdf/office/",
        f"{case}/attachment/{answer_file.pk}/",
    ]
    posts = [
        (f"{case}/transition/", {"to_status": "withdrawn", "comment": "x"}),
        (f"{case}/assign/", {"assignee": "me"}),
        (f"{case}/note/", {"text": "fremd"}),
        (f"{case}/rueckfrage/", {"question": "fremd", "deadline": deadline.isoformat()}),
        (f"{case}/decision/", {"step": "confirm", "outcome": "rejected", "message": "x"}),
        (f"{case}/decision/letter/", {}),
        (f"{case}/decision/reopen/", {"reason": "fremd"}),
        (f"{case}/decision/correct/", {"reason": "fremd", "body": "fremd"}),
        (f"{case}/uebergeben/", {"handed_over_reference": "FREMD-1"}),
        (f"{case}/wiedervorlage/", {"resubmission_on": deadline.isoformat()}),
    ]
    refused_before = AuditEntry.objects.filter(actor=intruder.user, action="refused").count()
    for path in gets:
        assert intruder.client.get(path).status_code == 404, path
    for path, data in posts:
        assert intruder.client.post(path, data).status_code == 404, path
    refused = AuditEntry.objects.filter(actor=intruder.user, action="refused").count()
    assert refused - refused_before == len(gets) + len(posts)  # one entry per probe
    # Nothing changed through the probes.
    submission.refresh_from_db()
    assert submission.status == "in_progress" and submission.handed_over_reference == ""
    assert submission.resubmission_on is None
    assert InfoRequest.objects.filter(submission=submission).count() == 1

    assert not reports, "\n".join(reports)
