"""The office lead's audit list, overview and bulk assignment in a browser, checked with axe."""

from __future__ import annotations

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from tests.backoffice.backoffice_support import current_totp, make_staff, two_offices
from tests.factories import SubmissionFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WCAG_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}


def _axe(page, label, reports):
    results = Axe().run(page, options=WCAG_AA)
    assert results.response.get("testEngine", {}).get("name") == "axe-core"
    if results.violations_count:
        reports.append(f"{label}:\n{results.generate_report()}")


def test_lead_audit_list_overview_and_bulk_assign_are_accessible(live_server, browser):
    office, other_office = two_offices()
    cases = [SubmissionFactory(office=office) for _ in range(6)]
    foreign = SubmissionFactory(office=other_office)
    lead = make_staff("lead_audit_axe", "lead", [office], login=False)
    clerk = make_staff("clerk_audit_axe", "clerk", [office])
    intruder = make_staff("intruder_axe", "clerk", [other_office])
    intruder.client.get(f"/admin/submissions/submission/{cases[0].pk}/change/")
    clerk.client.get("/admin/submissions/submission/", {"q": "Mustermann"})
    reports: list[str] = []

    context = browser.new_context(locale="de-DE")
    page = context.new_page()
    url = live_server.url
    page.goto(url + "/admin/login/?next=/admin/")
    page.fill("#id_username", lead.user.username)
    page.fill("#id_password", lead.password)
    page.fill("#id_otp_token", current_totp(lead.user))
    page.click("input[type=submit]")
    page.wait_for_url(url + "/admin/")

    # The overview: figures as links; the open total leads to the filtered list.
    page.goto(url + "/admin/backoffice/uebersicht/")
    _axe(page, "overview", reports)
    page.locator("#content-main section table").first.locator("td").last.locator("a").click()
    page.wait_for_url(re.compile(r"behoerde=.*status__in=|status__in=.*behoerde="))
    expect(page.locator("#result_list tbody tr")).to_have_count(6)

    # Bulk assignment of all six to the clerk.
    page.check("#action-toggle")
    page.select_option("select[name=action]", "assign_selected")
    page.click("button[name=index]")
    _axe(page, "bulk assign", reports)
    page.select_option("#id_assignee", label=clerk.user.username)
    page.click("input[type=submit][value=Zuweisen]")
    page.wait_for_selector("#result_list")
    assert "6 Anträge zugewiesen." in page.content()

    # The audit list: German actions, local time, the intruder's refused attempt.
    page.goto(url + "/admin/backoffice/auditentry/?action__exact=refused")
    page.wait_for_selector("#result_list tbody tr")
    _axe(page, "audit list", reports)
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 1
    assert "Zugriff verweigert (andere Behörde)" in rows.first.inner_text()
    assert "intruder_axe" in rows.first.inner_text()
    page.goto(url + "/admin/backoffice/auditentry/")
    text = page.inner_text("#result_list")
    assert "gesucht" in text and "Mustermann" not in text
    assert foreign.reference not in page.content()
    context.close()
    assert not reports, "\n".join(reports)
