"""The issue's examples in a real browser, by keyboard alone and without
JavaScript: an Ortsteil or former name leads to the right Gemeinde and the page
says why; axe-core finds no WCAG 2.1 AA violation in German and English."""

from __future__ import annotations

from io import StringIO

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.core.management import call_command
from django.utils import translation

from municipalities.models import Gemeinde
from tests.municipalities.conftest import GV100AD, ORTSTEILE, POSTCODES

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WCAG_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}

# (query, locale, the Gemeinde's link, the reason shown, the Kreis shown)
EXAMPLES = [
    ("Wölfershausen", "de-DE", "Rhönblick", "Wölfershausen: Ortsteil von Rhönblick", None),
    ("Hochheim", "de-DE", "Erfurt, Stadt", "Hochheim: Ortsteil von Erfurt, Stadt", None),
    ("Kühdorf", "de-DE", "Langenwetzendorf", "früher: Kühdorf", "Greiz"),
    ("Wölfershausen", "en-GB", "Rhönblick", "Wölfershausen: part of Rhönblick", None),
    ("Kühdorf", "en-GB", "Langenwetzendorf", "formerly: Kühdorf", "Greiz"),
]


@pytest.fixture
def imported(transactional_db):
    call_command("import_gv100ad", str(GV100AD), stdout=StringIO(), stderr=StringIO())
    call_command("import_postcodes", str(POSTCODES), stdout=StringIO())
    call_command("import_ortsteile", str(ORTSTEILE), stdout=StringIO())
    call_command("seed_responsibility", stdout=StringIO())


def test_examples_by_keyboard_without_javascript_and_accessible(imported, live_server, browser):
    # One test for all examples: importing the data for a live server costs seconds.
    reports = []
    for query, locale, gemeinde, reason, kreis in EXAMPLES:
        context = browser.new_context(locale=locale, java_script_enabled=False)
        try:
            page = context.new_page()
            page.goto(live_server.url + "/gemeinden/")
            for _ in range(12):
                if page.evaluate("document.activeElement && document.activeElement.id") == "id_q":
                    break
                page.keyboard.press("Tab")
            assert page.evaluate("document.activeElement.id") == "id_q"
            page.keyboard.type(query)
            page.keyboard.press("Enter")
            page.wait_for_url("**/gemeinden/?q=*")
            first = page.locator(".portal-results li").first
            # The link shows the name as people say it ("Stadt Erfurt", "Gemeinde Rhönblick").
            with translation.override(locale[:2]):
                shown = Gemeinde.objects.get(name=gemeinde, valid_to__isnull=True).display_name
            assert first.get_by_role("link").inner_text() == shown, (query, locale)
            assert reason in first.inner_text(), (query, locale)
            if kreis:
                assert kreis in first.inner_text()
            # The axe-core engine needs JavaScript; a second context runs it on the same page.
            axe_context = browser.new_context(locale=locale)
            try:
                axe_page = axe_context.new_page()
                axe_page.goto(page.url)
                results = Axe().run(axe_page, options=WCAG_AA)
                assert results.response.get("testEngine", {}).get("name") == "axe-core"
                if results.violations_count:
                    reports.append(f"{query} ({locale}):\n{results.generate_report()}")
            finally:
                axe_context.close()
            # Keyboard on to the Gemeinde's page.
            for _ in range(40):
                focused = page.evaluate("document.activeElement.textContent.trim()")
                if focused == shown:
                    break
                page.keyboard.press("Tab")
            page.keyboard.press("Enter")
            page.wait_for_url("**/gemeinden/160*/")
            assert page.get_by_role("heading", level=1).inner_text() == shown
        finally:
            context.close()
    assert not reports, "\n".join(reports)
