"""Issue 13 (problem 9): every citizen page reads in English; favicon and Leichte Sprache."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.citizen.test_citizen_browser import (  # noqa: F401 - portal is a fixture
    HALTER,
    assert_accessible,
    fill_step,
    hund_steps,
    next_button,
    open_service,
    portal,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Words of the German interface that never belong to data (place names, office names).
GERMAN_MARKERS = re.compile(
    r"\b(Gebühr|Gebühren|Steuer|jährlich|einmalig|Antrag|Anträge|Weiter|Zurück|Leistung|Leistungen|"
    r"Gemeinde suchen|Zuständig|Bitte|Sie|Ihr|Ihre|und|oder|für|wird|ergänzt|Erklärung|Datenschutz|"
    r"Impressum|Barrierefreiheit|Leichte Sprache|Sätze|Hinweis|Pflichtfeld|Hund|Gesamt|Euro pro)\b"
)


def english_text(page) -> str:
    """The visible text of the page without data rows (names of places and offices)."""
    return page.locator("body").inner_text()


def assert_english(page, what: str) -> None:
    text = english_text(page)
    found = sorted(set(GERMAN_MARKERS.findall(text)))
    assert not found, f"{what} ({page.url}) still shows German words {found}:\n{text[:3000]}"


def test_citizen_pages_in_english_have_no_german_chrome(portal, page):  # noqa: F811
    page.goto(portal["url"] + "/")
    page.get_by_role("button", name="English").click()
    assert_english(page, "start page")
    page.get_by_label(re.compile("municipality or postcode")).fill("Erfurt")
    page.get_by_role("button", name=re.compile("Find")).click()
    assert_english(page, "search results")
    page.get_by_role("link", name="City of Erfurt", exact=True).click()
    assert page.get_by_role("heading", level=1).inner_text() == "City of Erfurt"
    assert_english(page, "municipality page")
    for service in ("Register a dog", "Register a trade"):
        page.get_by_role("link", name=re.compile(service)).first.click()
        assert_english(page, f"service page {service}")
        assert_accessible(page, f"service page {service} (en)")
        page.go_back()
    for path in (
        "/impressum/",
        "/datenschutz/",
        "/leichte-sprache/",
        "/barrierefreiheit/",
        "/status/",
    ):
        page.goto(portal["url"] + path)
        assert page.locator("html").get_attribute("lang") == "en"
        assert_english(page, path)


@pytest.mark.parametrize("language", ["de", "en"])
def test_favicon_and_contact_pages_served_to_the_browser(portal, page, language):  # noqa: F811
    page.goto(portal["url"] + "/")
    if language == "en":
        page.get_by_role("button", name="English").click()
    icon = page.locator('link[rel="icon"][type="image/svg+xml"]').get_attribute("href")
    response = page.request.get(portal["url"] + icon)
    assert response.ok
    assert response.headers["content-type"].startswith("image/svg")
    page.get_by_role("link", name=re.compile("^(Leichte Sprache|Easy read)$")).click()
    assert page.url.endswith("/leichte-sprache/")
    assert_accessible(page, f"Leichte Sprache ({language})")


def test_every_wizard_step_check_and_confirmation_in_english(portal, page):  # noqa: F811
    page.goto(portal["url"] + "/")
    page.get_by_role("button", name="English").click()
    open_service(
        page, portal, "Rhönbl", "Municipality of Rhönblick", re.compile("Register a dog"), axe=False
    )
    for step, values in [("halter", HALTER), *hund_steps(portal["pdf"])]:
        assert f"/schritt/{step}/" in page.url, f"expected step {step}, at {page.url}"
        assert_english(page, f"step {step}")
        fill_step(page, step, values)
        next_button(page).click()
    assert_english(page, "check page")
    page.get_by_role("button", name=re.compile("Submit")).click()
    # The click starts a navigation: wait for the new page's title.
    expect(page).to_have_title(re.compile("^" + re.escape("Error:")))
    assert_english(page, "check page with errors")
    assert_accessible(page, "check page with errors (en)")
    page.get_by_label(re.compile("I confirm")).last.check()
    page.get_by_role("button", name=re.compile("Submit")).click()
    assert_english(page, "confirmation page")
