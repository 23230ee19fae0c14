"""The Rückfrage in real browsers: the clerk (TOTP login) asks from a template with a
deadline, the citizen answers on the status page with an upload (after a refused one),
the clerk sees the answer and the file. axe-core on every new page and state."""

from __future__ import annotations

import datetime
import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from backoffice.models import MessageTemplate
from submissions.models import Attachment, InfoRequest, Submission
from submissions.references import status_link_token
from tests.backoffice.backoffice_support import current_totp
from tests.submissions.conftest import office_setup  # noqa: F401 - fixture
from tests.submissions.info_request_support import EXE, PDF, ask, clerk_of, filed

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WCAG_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
AXE = Axe()


def assert_accessible(page, what: str) -> None:
    results = AXE.run(page, options=WCAG_AA)
    assert results.response.get("testEngine", {}).get("name") == "axe-core"
    assert results.violations_count == 0, f"{what} ({page.url}):\n{results.generate_report()}"


def staff_login(page, url: str, staff) -> None:
    page.goto(url + "/admin/login/?next=/admin/")
    page.fill("#id_username", staff.user.username)
    page.fill("#id_password", staff.password)
    page.fill("#id_otp_token", current_totp(staff.user))
    page.click("input[type=submit]")
    page.wait_for_url(url + "/admin/")


def test_clerk_asks_citizen_answers_with_an_upload_clerk_sees_it(
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
        title="Mietvertrag fehlt",
        body="Guten Tag {name},\nfür {aktenzeichen} fehlt der Mietvertrag. "
        "Bitte laden Sie ihn bis {frist} hoch.\n{behoerde}",
    )
    clerk = clerk_of(office, "rf_browser_clerk")
    url = live_server.url
    case_url = f"{url}/admin/submissions/submission/{submission.pk}/change/"

    # --- The clerk asks.
    staff = browser.new_context(locale="de-DE")
    request.addfinalizer(staff.close)
    page = staff.new_page()
    page.set_default_timeout(15_000)
    staff_login(page, url, clerk)
    page.goto(case_url)
    expect(page.get_by_test_id("case-rueckfrage")).to_contain_text("Bisher keine Rückfragen.")
    assert_accessible(page, "case page before the question")
    page.get_by_test_id("ask-info").click()
    expect(page.locator("h1")).to_contain_text(f"Rückfrage zum Antrag {submission.reference}")
    assert_accessible(page, "ask page")
    page.select_option("#id_vorlage", label="Mietvertrag fehlt")
    page.get_by_test_id("use-template").click()
    question = page.locator("#id_question")
    expect(question).to_have_value(re.compile(f"für {submission.reference} fehlt der Mietvertrag"))
    assert_accessible(page, "ask page with the template's text")
    deadline = timezone.localdate() + datetime.timedelta(days=10)
    page.fill("#id_deadline", deadline.isoformat())
    page.get_by_test_id("send-info-request").click()
    expect(page.locator(".messagelist")).to_contain_text("Rückfrage gesendet")
    panel = page.get_by_test_id("case-rueckfrage")
    expect(panel).to_contain_text("offen, Antwort ausstehend")
    expect(panel).to_contain_text(f"Bitte laden Sie ihn bis {deadline:%d.%m.%Y} hoch.")
    assert_accessible(page, "case page with the open question")
    info = InfoRequest.objects.get(submission=submission)
    assert info.deadline == deadline
    assert Submission.objects.get(pk=submission.pk).status == "info_requested"

    # --- The citizen answers, through the personal status link of the e-mails.
    submission.refresh_from_db()
    token = status_link_token(
        reference=submission.reference, access_secret_hash=submission.access_secret_hash
    )
    citizen_context = browser.new_context(locale="de-DE")
    request.addfinalizer(citizen_context.close)
    citizen = citizen_context.new_page()
    citizen.set_default_timeout(15_000)
    citizen.goto(
        url
        + reverse("citizen:status_link", kwargs={"reference": submission.reference, "token": token})
    )
    expect(citizen.get_by_test_id("info-question")).to_contain_text("fehlt der Mietvertrag")
    expect(citizen.get_by_test_id("info-deadline")).to_be_visible()
    assert_accessible(citizen, "status page with the question")

    typed = "Guten Tag, anbei der Mietvertrag."
    citizen.get_by_label("Ihre Antwort").fill(typed)
    citizen.set_input_files(
        "#id_files",
        files=[{"name": "mietvertrag.pdf", "mimeType": "application/pdf", "buffer": EXE}],
    )
    citizen.get_by_test_id("info-send").click()
    expect(citizen).to_have_title(re.compile("^Fehler:"))
    expect(citizen.locator("#error-summary")).to_contain_text("passt nicht zur Dateiendung")
    expect(citizen.get_by_label("Ihre Antwort")).to_have_value(typed)
    assert_accessible(citizen, "answer page with a refused file")

    citizen.set_input_files(
        "#id_files",
        files=[{"name": "mietvertrag.pdf", "mimeType": "application/pdf", "buffer": PDF}],
    )
    citizen.get_by_test_id("info-send").click()
    expect(citizen.get_by_test_id("info-answered")).to_contain_text("Ihre Antwort ist eingegangen")
    expect(citizen.get_by_test_id("status")).to_contain_text("in Bearbeitung")
    assert_accessible(citizen, "status page after the answer")

    # --- The clerk sees the answer and its file.
    page.goto(case_url)
    expect(panel).to_contain_text("Antwort vom")
    expect(page.get_by_test_id("info-answer")).to_contain_text(typed)
    link = page.get_by_test_id("info-answer-files").get_by_role("link", name="mietvertrag.pdf")
    expect(link).to_be_visible()
    assert_accessible(page, "case page with the answer")
    download = page.request.get(url + link.get_attribute("href"))
    assert download.status == 200 and download.body() == PDF
    attachment = Attachment.objects.get(info_request=info)
    assert attachment.original_name == "mietvertrag.pdf"


def test_english_citizen_sees_errors_in_english_and_keeps_what_was_given(
    live_server,
    browser,
    office_setup,  # noqa: F811 - the imported fixture
    clean_broker,
    request,
):
    """English: the refused file and the too long text are reported in English, the
    typed text and the accepted file stay, and the answer then goes out. (axe needs
    JavaScript in the page; the form itself is a plain post, see test_info_reply.py.)"""
    submission, _secret = filed(office_setup, language="en")
    clerk = clerk_of(office_setup["office"], "rf_browser_clerk_en")
    info = ask(submission, clerk.user, days=7, question="Please send your tenancy agreement.")
    token = status_link_token(
        reference=submission.reference, access_secret_hash=submission.access_secret_hash
    )
    context = browser.new_context(locale="en-GB")
    request.addfinalizer(context.close)
    page = context.new_page()
    page.set_default_timeout(15_000)
    url = live_server.url
    # The browser asks for English (Accept-Language); no language cookie.
    page.goto(
        url
        + reverse("citizen:status_link", kwargs={"reference": submission.reference, "token": token})
    )
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_test_id("info-request")).to_contain_text("Question from the authority")
    assert_accessible(page, "status page with the question (en)")

    page.get_by_label("Your answer").fill("x" * 10_001)
    page.set_input_files(
        "#id_files",
        files=[
            {"name": "scan.png", "mimeType": "image/png", "buffer": PDF},
            {"name": "contract.pdf", "mimeType": "application/pdf", "buffer": PDF},
        ],
    )
    page.get_by_test_id("info-send").click()
    expect(page).to_have_title(re.compile("^Error:"))
    summary = page.locator("#error-summary")
    expect(summary).to_contain_text("Your answer is too long")
    expect(summary).to_contain_text("scan.png")
    expect(page.get_by_test_id("info-files")).to_contain_text("contract.pdf")
    assert_accessible(page, "answer page with errors (en)")

    page.get_by_label("Your answer").fill("Attached.")
    page.get_by_test_id("info-send").click()
    expect(page.get_by_test_id("info-answered")).to_contain_text("Your answer has been received")
    assert_accessible(page, "status page after the answer (en)")
    info.refresh_from_db()
    assert info.answer == "Attached." and [f.original_name for f in info.files.all()] == [
        "contract.pdf"
    ]
