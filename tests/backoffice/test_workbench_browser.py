"""The workbench in Chromium: TOTP login lands on "Meine Fälle", the case list fits 1280 px
for a clerk and an office lead with long names, the two-column case page, the ZIP download;
axe-core finds no WCAG 2.1 AA violation on the start page, the list and the case page."""

from __future__ import annotations

import io
import re
import zipfile

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.core.files.base import ContentFile
from django.utils import timezone
from playwright.sync_api import expect

from submissions.models import Attachment
from tests.backoffice.backoffice_support import current_totp, make_case, make_staff
from tests.factories import GemeindeFactory, OfficeFactory, ServiceFactory, days_ago

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WCAG_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
LONG_SERVICE = (
    "Erlaubnis für das Bewachungsgewerbe nach § 34a Gewerbeordnung einschließlich "
    "Zuverlässigkeitsprüfung und Unterrichtungsnachweis"
)
LONG_APPLICANT = (
    "Prof. Dr. Maximiliane Friederike Charlotte von Hohenlohe-Schillingsfürst-Waldenburg"
)
LONG_GEMEINDE = "Verwaltungsgemeinschaft Nesseaue-Großfahner-Gierstädt-Dachwig-Kleinfahner"
LONG_OFFICE = "Landratsamt Saale-Holzland-Kreis, Fachdienst Ordnung, Gewerbe und Verkehrswesen"
LONG_STAFF = ("Anna-Katharina Elisabeth", "Müller-Lüdenscheidt-Oberweißbach")


def _axe(page, label: str, reports: list[str]) -> None:
    results = Axe().run(page, options=WCAG_AA)
    assert results.response.get("testEngine", {}).get("name") == "axe-core"
    if results.violations_count:
        reports.append(f"{label}:\n{results.generate_report()}")


def _login(page, url: str, staff) -> None:
    page.goto(url + "/admin/login/?next=/admin/")
    page.fill("#id_username", staff.user.username)
    page.fill("#id_password", staff.password)
    page.fill("#id_otp_token", current_totp(staff.user))
    page.click("input[type=submit]")
    expect(page).to_have_title(re.compile("^Meine Fälle"))


def _assert_list_fits(page, who: str) -> None:
    table = page.locator("#result_list")
    expect(table).to_be_visible()
    expect(table.locator("tbody tr").first).to_be_visible()
    widths = table.evaluate(
        "t => ({table: t.scrollWidth, container: t.closest('.results').clientWidth,"
        " page: document.documentElement.scrollWidth, viewport: window.innerWidth})"
    )
    if widths["table"] > widths["container"]:
        # Say which columns take the room, for whoever reads the failure.
        widths["columns"] = table.evaluate(
            "t => [...t.querySelectorAll('thead th')]"
            ".map(c => c.className + ': ' + Math.round(c.getBoundingClientRect().width))"
        )
    assert widths["table"] <= widths["container"], f"{who}: {widths}"
    assert widths["page"] <= widths["viewport"], (who, widths)
    # Cut texts keep their full wording for mouse and screen reader users.
    assert table.locator(f'[title="{LONG_SERVICE}"]').count() >= 1


def test_workbench_pages_at_1280_px_are_usable_and_accessible(live_server, browser):
    office = OfficeFactory(name=LONG_OFFICE)
    second_office = OfficeFactory(name=LONG_OFFICE + " II")
    service = ServiceFactory(name_de=LONG_SERVICE)
    gemeinde = GemeindeFactory(name=LONG_GEMEINDE)
    clerk = make_staff("clerk_wb_browser", "clerk", [office], login=False)
    lead = make_staff("lead_wb_browser", "lead", [office, second_office], login=False)
    for staff in (clerk, lead):
        staff.user.first_name, staff.user.last_name = LONG_STAFF
        staff.user.save()
    cases = []
    for n in range(12):
        case = make_case(
            office=office if n % 2 else second_office,
            reference=f"TH-2026-WB{n:02d}-BROW",
            submitted_at=days_ago(n),
            applicant_name=LONG_APPLICANT,
            gemeinde=gemeinde,
            assigned_to=clerk.user if n % 3 == 0 else None,
            status="in_progress" if n % 3 == 0 else "forwarded",
        )
        case.form_version.service = service
        case.form_version.save()
        case.service = service
        case.save(update_fields=["service"])
        cases.append(case)
    target = cases[3]  # the clerk's office, assigned to the clerk
    target.resubmission_on = timezone.localdate()
    target.save(update_fields=["resubmission_on"])
    Attachment.objects.filter(submission=target).update(field_path="rufname")
    extra = Attachment(
        submission=target,
        field_path="rufname",
        original_name=f"nachweis-{target.reference}.pdf",
        content_type="application/pdf",
        size=30,
        sha256="1" * 64,
    )
    extra.file.save("ignored", ContentFile(b"%PDF-1.7 second upload, same name"))
    reports: list[str] = []
    url = live_server.url

    context = browser.new_context(locale="de-DE", viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(20_000)
    _login(page, url, clerk)
    # The start page: the due case and the clerk's own cases.
    due = page.locator('section[data-section="due"]')
    expect(due).to_contain_text(target.reference)
    expect(page.locator('section[data-section="mine"]')).to_contain_text(target.reference)
    _axe(page, "start page (clerk)", reports)
    due.get_by_role("link", name=re.compile("^Alle anzeigen")).click()
    expect(page).to_have_title(re.compile("^Anträge"))
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    page.goto(url + "/admin/submissions/submission/")
    _assert_list_fits(page, "clerk")
    _axe(page, "case list (clerk)", reports)

    page.get_by_role("link", name=target.reference).click()
    expect(page.locator("h1")).to_contain_text(target.reference)
    # Two columns at 1280 px: the answers left of the status.
    left = page.locator("#case-answers").bounding_box()
    right = page.locator("#case-work").bounding_box()
    assert left["x"] + left["width"] <= right["x"], (left, right)
    expect(page.locator("#case-documents").locator("xpath=..")).to_contain_text(
        "Rufname des Hundes"
    )
    _axe(page, "case page", reports)
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Alle Unterlagen als ZIP herunterladen").click()
    download = download_info.value
    assert download.suggested_filename == f"{target.reference}-unterlagen.zip"
    with open(download.path(), "rb") as handle:
        archive = zipfile.ZipFile(io.BytesIO(handle.read()))
    assert archive.namelist() == [
        f"Antrag {target.reference}.pdf",
        f"Rufname des Hundes - nachweis-{target.reference}.pdf",
        f"Rufname des Hundes - nachweis-{target.reference} (2).pdf",
    ]
    # Wiedervorlage and hand-over from the case page, seen in the history in German.
    page.fill("#id_handed_over_reference", "FV-2026/0815")
    page.get_by_role("button", name="als übergeben markieren").click()
    expect(page.locator(".messagelist")).to_contain_text("FV-2026/0815")
    expect(page.locator("#case-history").locator("xpath=..")).to_contain_text(
        "an Fachverfahren übergeben"
    )
    # Below ~1000 px the page is one column.
    page.set_viewport_size({"width": 900, "height": 800})
    expect(page.locator("#case-work")).to_be_visible()
    left = page.locator("#case-answers").bounding_box()
    right = page.locator("#case-work").bounding_box()
    assert right["y"] > left["y"], (left, right)
    context.close()

    context = browser.new_context(locale="de-DE", viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(20_000)
    _login(page, url, lead)
    _axe(page, "start page (lead)", reports)
    page.goto(url + "/admin/submissions/submission/")
    expect(page.locator("#result_list thead")).to_contain_text("Behörde")  # two offices
    _assert_list_fits(page, "lead")
    _axe(page, "case list (lead)", reports)
    context.close()
    assert not reports, "\n".join(reports)
