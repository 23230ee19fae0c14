"""The citizen pages in a real browser: axe-core finds no WCAG 2.1 AA violation,
and the search works by keyboard alone without JavaScript."""

from __future__ import annotations

from io import StringIO

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.core.management import call_command

from tests.municipalities.conftest import GV100AD, POSTCODES

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WCAG_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}


@pytest.fixture
def imported(transactional_db):
    call_command("import_gv100ad", str(GV100AD), stdout=StringIO(), stderr=StringIO())
    call_command("import_postcodes", str(POSTCODES), stdout=StringIO())
    call_command("seed_responsibility", stdout=StringIO())


PATHS = [
    "/gemeinden/",
    "/gemeinden/?q=Ilmenau",
    "/gemeinden/?q=07646",
    "/gemeinden/?q=Atlantis",
    "/gemeinden/?q=" + "x" * 200,
    "/gemeinden/16066056/",
    "/gemeinden/99999999/",
    "/quellen/",
]


def test_pages_have_no_wcag_violations(imported, live_server, page):
    # One test for all pages: importing the data for a live server costs seconds.
    reports = []
    for path in PATHS:
        page.goto(live_server.url + path)
        results = Axe().run(page, options=WCAG_AA)
        assert results.response.get("testEngine", {}).get("name") == "axe-core"
        if results.violations_count:
            reports.append(f"{path}:\n{results.generate_report()}")
    assert not reports, "\n".join(reports)


def test_keyboard_only_search_without_javascript(imported, live_server, browser):
    context = browser.new_context(locale="de-DE", java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(live_server.url + "/gemeinden/")
        page.keyboard.press("Tab")  # skip link
        page.keyboard.press("Tab")  # brand
        for _ in range(10):
            if page.evaluate("document.activeElement && document.activeElement.id") == "id_q":
                break
            page.keyboard.press("Tab")
        page.keyboard.type("Gossnitz")
        page.keyboard.press("Enter")
        page.wait_for_url("**/gemeinden/?q=Gossnitz")
        page.get_by_role("link", name="Stadt Gößnitz").click()
        assert page.get_by_role("heading", level=1).inner_text() == "Stadt Gößnitz"
        assert page.get_by_text("Landratsamt Altenburger Land").count() >= 1
    finally:
        context.close()
