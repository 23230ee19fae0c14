"""The funnel statistics page in a real browser: filters, tables with bars, axe-core clean."""

from __future__ import annotations

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from tests.backoffice.backoffice_support import make_staff
from tests.backoffice.test_admin_browser import WCAG_AA, _keyboard_login
from tests.backoffice.test_funnel import drafts
from tests.citizen.citizen_support import municipality, publish

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_funnel_page_filters_and_has_no_wcag_violations(live_server, browser):
    version = publish()
    gemeinde, _ = municipality("Rhönblick", "Gemeindeverwaltung Rhönblick")
    drafts(version, gemeinde, 8, reached=0b11111, submitted=True)
    drafts(version, gemeinde, 6, reached=0b11, errors={"email": 2})
    editor = make_staff("kz_funnel_axe", "kompetenzzentrum", login=False)
    context = browser.new_context(locale="de-DE")
    page = context.new_page()
    _keyboard_login(page, live_server.url, editor)
    page.click("text=Formular-Statistik")
    page.select_option("#id_leistung", label="Hundeanmeldung")
    page.click("input[type=submit][value=Anzeigen]")
    # The filtered page is read only once it has loaded (the click only starts the navigation).
    page.wait_for_url(re.compile(r"leistung=\d+"))
    # The step table: 14 started, all reached the first step, 8 the check page.
    table = page.locator("table", has=page.locator("caption", has_text="Schritte"))
    expect(table.locator("tbody tr")).to_have_count(5)
    first = table.locator("tbody tr").first
    assert "14" in first.inner_text() and "100,0 %" in first.inner_text()
    assert first.locator(".funnel-bar").evaluate("e => e.getBoundingClientRect().width") > 50
    fields = page.locator("table", has=page.locator("caption", has_text="Felder"))
    assert "E-Mail-Adresse" in fields.inner_text()
    reports = []
    results = Axe().run(page, options=WCAG_AA)
    if results.violations_count:
        reports.append(results.generate_report())
    # A forged filter: a German message, the typed values kept, still no violation.
    page.goto(
        f"{live_server.url}/admin/backoffice/statistik/formulare/?von=2026-05-01&bis=2026-04-01"
    )
    assert "Das Ende des Zeitraums liegt vor seinem Anfang." in page.inner_text(".errornote")
    assert page.input_value("#id_von") == "2026-05-01"
    results = Axe().run(page, options=WCAG_AA)
    if results.violations_count:
        reports.append(results.generate_report())
    context.close()
    assert not reports, "\n".join(reports)
