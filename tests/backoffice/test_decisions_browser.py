"""Deciding in a real browser: the clerk approves with a Bescheid after the confirmation page,
the citizen downloads it on the status page, the office lead corrects and reopens it with a
reason; the history shows each step. axe-core on every new page."""

from __future__ import annotations

import io

import pypdf
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from backoffice.casework import case_transition
from submissions.models import Submission
from submissions.references import access_secret_generate, access_secret_hash, reference_generate
from tests.backoffice.backoffice_support import current_totp, make_case, make_staff, two_offices

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WCAG_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
BASE = "/admin/submissions/submission"


def _axe(page, label: str, reports: list[str]) -> None:
    results = Axe().run(page, options=WCAG_AA)
    assert results.response.get("testEngine", {}).get("name") == "axe-core"
    if results.violations_count:
        reports.append(f"{label} ({page.url}):\n{results.generate_report()}")


def _login(browser, url: str, staff):
    context = browser.new_context(locale="de-DE", accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.goto(url + "/admin/login/?next=/admin/")
    page.fill("#id_username", staff.user.username)
    page.fill("#id_password", staff.password)
    page.fill("#id_otp_token", current_totp(staff.user))
    page.click("input[type=submit]")
    page.wait_for_url(url + "/admin/")
    return context, page


def _pdf_text(data: bytes) -> str:
    assert data.startswith(b"%PDF-")
    reader = pypdf.PdfReader(io.BytesIO(data))
    return "\n".join(p.extract_text() for p in reader.pages)


def test_clerk_approves_with_bescheid_citizen_downloads_lead_corrects_and_reopens(
    live_server, browser
):
    office, _ = two_offices()
    office.street, office.postcode, office.city = "Marktplatz 1", "99084", "Erfurt"
    office.save()
    secret = access_secret_generate()
    case = make_case(
        office=office,
        reference=reference_generate(year=2026),
        access_secret_hash=access_secret_hash(secret),
    )
    clerk = make_staff("clerk_decide", "clerk", [office], login=False)
    lead = make_staff("lead_decide", "lead", [office], login=False)
    case_transition(submission=case, to_status="in_progress", actor=clerk.user)
    url = live_server.url
    reports: list[str] = []

    # --- the clerk decides: form, confirmation page, then the decision
    context, page = _login(browser, url, clerk)
    page.goto(f"{url}{BASE}/{case.pk}/decision/")
    expect(page.get_by_role("button", name="Weiter zur Bestätigung")).to_be_visible()
    _axe(page, "decision page", reports)
    page.goto(f"{url}{BASE}/{case.pk}/change/")
    panel = page.locator("section.decision-panel")
    expect(panel).to_be_visible()
    _axe(page, "case page with the decision panel", reports)
    # Rejecting without a reason is refused with a message, nothing decided.
    panel.get_by_label("ablehnen").check()
    panel.get_by_role("button", name="Weiter zur Bestätigung").click()
    expect(page.get_by_test_id("decision-error")).to_contain_text("begründen")
    _axe(page, "decision page with an error", reports)
    page.get_by_label("bewilligen").check()
    page.fill("#id_decision_message", "Bitte bringen Sie die Marke am Halsband an.")
    expect(page.locator("#id_with_letter")).to_be_checked()
    page.get_by_role("button", name="Weiter zur Bestätigung").click()
    expect(page.get_by_role("button", name="Entscheidung endgültig absenden")).to_be_visible()
    expect(page.get_by_test_id("confirm-outcome")).to_have_text("bewilligt")
    expect(page.get_by_test_id("confirm-message")).to_contain_text("Marke am Halsband")
    expect(page.get_by_test_id("confirm-letter")).to_have_text("wird erstellt")
    _axe(page, "confirmation page", reports)
    assert Submission.objects.get(pk=case.pk).status == "in_progress"  # not yet
    page.get_by_role("button", name="Entscheidung endgültig absenden").click()
    expect(page.locator(".messagelist .success").first).to_contain_text("bewilligt")
    expect(page.locator("section.decision-panel table")).to_contain_text("gültig")
    case.refresh_from_db()
    assert case.status == "approved"
    letter = case.decision_letters.get()
    with page.expect_download() as download_info:
        page.locator("section.decision-panel table a").first.click()
    with open(download_info.value.path(), "rb") as handle:
        assert case.reference in _pdf_text(handle.read())
    # A clerk gets no reopen or correct link.
    expect(page.get_by_role("link", name="Entscheidung wieder aufnehmen")).to_have_count(0)
    context.close()

    # --- the citizen opens the status page with reference and code and downloads it
    citizen = browser.new_context(locale="de-DE", accept_downloads=True)
    citizen_page = citizen.new_page()
    citizen_page.set_default_timeout(20_000)
    citizen_page.goto(url + "/status/")
    citizen_page.fill("input[name=reference]", case.reference)
    citizen_page.fill("input[name=secret]", secret)
    citizen_page.get_by_role("button", name="Stand abfragen").click()
    expect(citizen_page.get_by_test_id("status")).to_have_text("bewilligt")
    current = citizen_page.get_by_test_id("decision-letter-current")
    expect(current).to_be_visible()
    _axe(citizen_page, "status page with the Bescheid", reports)
    with citizen_page.expect_download() as download_info:
        current.click()
    download = download_info.value
    assert download.suggested_filename.startswith(f"Bescheid-{case.reference}-")
    with open(download.path(), "rb") as handle:
        text = _pdf_text(handle.read())
    assert case.reference in text and "Marktplatz 1" in text
    assert "Rechtsbehelfsbelehrung" in text and "Marke am Halsband" in text

    # --- the lead corrects the letter, then reopens the case with a reason
    context, page = _login(browser, url, lead)
    page.goto(f"{url}{BASE}/{case.pk}/change/")
    page.get_by_role("link", name="Bescheid berichtigen").click()
    expect(page.get_by_role("button", name="Berichtigten Bescheid erstellen")).to_be_visible()
    _axe(page, "correct page", reports)
    page.fill("#id_body", "Ihrem Antrag wird stattgegeben (berichtigt).")
    page.fill("#id_reason", "Schreibfehler im Bescheid")
    page.get_by_role("button", name="Berichtigten Bescheid erstellen").click()
    expect(page.locator(".messagelist .success").first).to_contain_text("ersetzt den bisherigen")
    expect(page.get_by_test_id(f"decision-letter-{letter.pk}")).to_contain_text("ersetzt am")

    page.get_by_role("link", name="Entscheidung wieder aufnehmen").click()
    expect(page.get_by_role("button", name="Wieder aufnehmen")).to_be_visible()
    _axe(page, "reopen page", reports)
    page.fill("#id_reason", "Die Gebühr wurde falsch berechnet.")
    page.get_by_role("button", name="Wieder aufnehmen").click()
    expect(page.locator(".messagelist .success").first).to_contain_text("wieder in Bearbeitung")
    history = page.locator("section[aria-labelledby=case-history]")
    expect(history).to_contain_text("Die Gebühr wurde falsch berechnet.")
    expect(history).to_contain_text("Schreibfehler im Bescheid")
    audit = page.locator("section[aria-labelledby=case-audit]")
    expect(audit).to_contain_text("Entscheidung wieder aufgenommen")
    expect(audit).to_contain_text("Bescheid berichtigt")
    expect(audit).to_contain_text("Bescheid erstellt")
    _axe(page, "case page after reopening", reports)
    context.close()
    case.refresh_from_db()
    assert case.status == "in_progress"

    # --- the citizen sees it in the history; the letters are marked as no longer valid
    citizen_page.reload()
    expect(citizen_page.get_by_test_id("status")).to_have_text("in Bearbeitung")
    expect(citizen_page.locator("table")).to_contain_text("Die Gebühr wurde falsch berechnet.")
    expect(citizen_page.locator("table")).to_contain_text("Berichtigter Bescheid erstellt")
    letters = citizen_page.get_by_test_id("decision-letters")
    expect(letters).to_contain_text("nicht mehr gültig")
    expect(letters).to_contain_text("erneut bearbeitet")
    expect(citizen_page.get_by_test_id("decision-letter-current")).to_have_count(0)
    _axe(citizen_page, "status page after reopening", reports)
    citizen.close()
    assert not reports, "\n".join(reports)
