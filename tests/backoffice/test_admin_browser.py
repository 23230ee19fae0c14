"""Back-office pages in a real browser: keyboard login with password and TOTP code, and
axe-core finds no WCAG 2.1 AA violation on the pages the back office adds."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from tests.backoffice.backoffice_support import current_totp, make_case, make_staff, two_offices

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WCAG_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}


def _keyboard_login(page, url, staff):
    page.goto(url + "/admin/login/?next=/admin/")
    # The username field has the focus (autofocus); the rest is reached with Tab.
    # Chromium applies autofocus in a rendering step after "load": wait for it (a
    # page without autofocus times out here and fails).
    page.wait_for_function("document.activeElement && document.activeElement.id === 'id_username'")
    page.keyboard.type(staff.user.username)
    page.keyboard.press("Tab")
    page.keyboard.type(staff.password)
    page.keyboard.press("Tab")
    page.keyboard.type(current_totp(staff.user))
    page.keyboard.press("Enter")
    page.wait_for_url(url + "/admin/")


def _check(page, url, path, reports):
    page.goto(url + path)
    results = Axe().run(page, options=WCAG_AA)
    assert results.response.get("testEngine", {}).get("name") == "axe-core"
    if results.violations_count:
        reports.append(f"{path}:\n{results.generate_report()}")


def test_back_office_pages_have_no_wcag_violations(live_server, browser):
    office, _ = two_offices()
    case = make_case(office=office, reference="TH-2026-AXE1-0001")
    lead = make_staff("lead_axe", "lead", [office], login=False)
    editor = make_staff("kz_axe", "kompetenzzentrum", login=False)
    reports: list[str] = []

    context = browser.new_context(locale="de-DE")
    page = context.new_page()
    _check(page, live_server.url, "/admin/login/", reports)
    # A wrong code shows the error summary, also checked. (Another account:
    # a failed code throttles that account's device for a moment.)
    other = make_staff("other_axe", "clerk", [office], login=False)
    page.fill("#id_username", "other_axe")
    page.fill("#id_password", other.password)
    page.fill("#id_otp_token", "000000")
    page.click("input[type=submit]")
    assert "Einmalcode" in page.inner_text("#login-errors")
    results = Axe().run(page, options=WCAG_AA)
    if results.violations_count:
        reports.append(f"login with error:\n{results.generate_report()}")
    _keyboard_login(page, live_server.url, lead)
    for path in [
        "/admin/",
        "/admin/submissions/submission/",
        "/admin/submissions/submission/?q=Erika&status__exact=received",
        f"/admin/submissions/submission/{case.pk}/change/",
        "/admin/backoffice/uebersicht/",
    ]:
        _check(page, live_server.url, path, reports)
    page.goto(f"{live_server.url}/admin/submissions/submission/{case.pk}/change/")
    page.fill("#id_note_text", "Rückruf vereinbart")
    page.click("text=Notiz speichern")
    assert "Rückruf vereinbart" in page.content()
    context.close()

    context = browser.new_context(locale="de-DE")
    page = context.new_page()
    _keyboard_login(page, live_server.url, editor)
    _check(page, live_server.url, "/admin/backoffice/statistik/", reports)
    # Into one Kreis's Gemeinden with the keyboard: the Kreis's name is a link.
    kreis = case.gemeinde.kreis
    page.focus(f"table.area-figures a[href*='kreis={kreis.key}']")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/admin/backoffice/statistik/?*kreis={kreis.key}*")
    expect(page.locator("#per-area")).to_contain_text(f"Anträge je Gemeinde in {kreis.name}")
    expect(page.locator("table.area-figures tbody")).to_contain_text(case.gemeinde.name)
    results = Axe().run(page, options=WCAG_AA)
    if results.violations_count:
        reports.append(f"statistics of one Kreis:\n{results.generate_report()}")
    # A refused choice shows the error summary, also checked.
    _check(page, live_server.url, "/admin/backoffice/statistik/?monat=13-2026", reports)
    expect(page.locator(".errornote")).to_contain_text("Monat")
    context.close()
    assert not reports, "\n".join(reports)


@pytest.mark.parametrize("locale, heading", [("de-DE", "gesperrt"), ("en-GB", "blocked")])
def test_lockout_page_is_styled_and_has_no_wcag_violations(live_server, browser, locale, heading):
    office, _ = two_offices()
    clerk = make_staff(f"locked_{locale[:2]}", "clerk", [office], login=False)
    context = browser.new_context(locale=locale)
    page = context.new_page()
    page.goto(live_server.url + "/admin/login/?next=/admin/")
    for attempt in range(5):
        page.fill("#id_username", clerk.user.username)
        page.fill("#id_password", f"Falsch-{attempt}-<b>&amp;")
        page.fill("#id_otp_token", "000000")
        with page.expect_navigation() as navigation:
            page.click("input[type=submit]")
    assert navigation.value.status == 429
    assert heading in page.inner_text("h1")
    # KERN UX is applied: the page is the portal's, not a line of plain text.
    assert "Fira Sans" in page.evaluate("getComputedStyle(document.body).fontFamily")
    results = Axe().run(page, options=WCAG_AA)
    assert results.response.get("testEngine", {}).get("name") == "axe-core"
    assert results.violations_count == 0, results.generate_report()
    context.close()


def test_first_login_with_the_initial_password_goes_to_an_accessible_password_change(
    live_server, browser
):
    from backoffice.staff import staff_create

    office, _ = two_offices()
    clerk = make_staff("erst_axe", "clerk", [office], login=False)
    # As the platform administration issues it: a fresh initial password.
    initial = staff_create(username="erst_axe", role="clerk", office_ids=[office.pk]).password
    context = browser.new_context(locale="de-DE")
    page = context.new_page()
    page.goto(live_server.url + "/admin/login/?next=/admin/submissions/submission/")
    page.fill("#id_username", "erst_axe")
    page.fill("#id_password", initial)
    page.fill("#id_otp_token", current_totp(clerk.user))
    page.click("input[type=submit]")
    page.wait_for_url(live_server.url + "/admin/password_change/")
    assert "Erstpasswort" in page.inner_text("body")
    results = Axe().run(page, options=WCAG_AA)
    assert results.violations_count == 0, results.generate_report()
    own = "Eigenes-Passwort-für-Erfurt-2026"
    page.fill("#id_old_password", initial)
    page.fill("#id_new_password1", own)
    page.fill("#id_new_password2", own)
    page.click("input[type=submit]")
    page.wait_for_url(live_server.url + "/admin/password_change/done/")
    results = Axe().run(page, options=WCAG_AA)
    assert results.violations_count == 0, results.generate_report()
    page.goto(live_server.url + "/admin/submissions/submission/")
    assert page.url == live_server.url + "/admin/submissions/submission/"
    context.close()
