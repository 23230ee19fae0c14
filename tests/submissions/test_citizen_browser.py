"""The citizen's journey in a real browser (system Chromium), checked by axe-core.

Two services in two municipalities from the official Gemeindeverzeichnis,
from the start page to the confirmation: one validation error, one upload,
one change from the check page, save and resume in a fresh browser context.
Plus a keyboard-only journey, a journey without JavaScript, and axe on every
page type in German and English (pages with errors included).
"""

from __future__ import annotations

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.core.management import call_command
from playwright.sync_api import expect

from submissions.models import Submission
from tests.submissions.citizen_support import PDF, publish

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
AXE = Axe()


@pytest.fixture
def portal(live_server, tmp_path):
    """The official municipalities, responsibility rules and the two forms used here."""
    call_command("import_gv100ad", "municipalities/data/GV100AD_30112025.txt", verbosity=0)
    call_command("seed_responsibility", verbosity=0)
    publish(slug="hundeanmeldung")
    publish(slug="gewerbe-anmeldung")
    upload = tmp_path / "versicherung.pdf"
    upload.write_bytes(PDF)
    disguised = tmp_path / "rechnung.pdf"
    disguised.write_bytes(b"MZ\x90\x00" + b"\x00" * 64)
    return {"url": live_server.url, "pdf": upload, "disguised": disguised}


def assert_accessible(page, what: str) -> None:
    results = AXE.run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}})
    assert results.violations_count == 0, f"{what} ({page.url}):\n{results.generate_report()}"


def open_service(page, portal, query: str, gemeinde: str, service: str, axe: bool) -> None:
    page.goto(portal["url"] + "/")
    if axe:
        assert_accessible(page, "start page")
    page.get_by_label(re.compile("Gemeinde oder Postleitzahl|municipality or postcode")).fill(query)
    page.get_by_role("button", name=re.compile("Gemeinde suchen|Find")).click()
    page.get_by_role("link", name=gemeinde, exact=True).click()
    if axe:
        assert_accessible(page, "municipality page")
    page.get_by_role("link", name=service).click()
    if axe:
        assert_accessible(page, "service page")
    page.get_by_role("button", name=re.compile("Antrag starten|Start application")).click()


def next_button(page):
    return page.get_by_role("button", name=re.compile(r"^(Weiter|Continue)$"))


def fill_person(page, surname="Mustermann"):
    page.fill("#id_halter-vorname", "Erika")
    page.fill("#id_halter-nachname", surname)
    page.fill("#id_halter-email", "erika@example.org")


def test_hundeanmeldung_in_rhoenblick_with_error_upload_change_and_resume(portal, page, browser):
    open_service(page, portal, "Rhönbl", "Rhönblick", re.compile("Hund anmelden"), axe=True)
    # Step 1 with a validation error: summary, "Fehler:" title, typed values kept.
    fill_person(page)
    page.fill("#id_halter-email", "keine-adresse")
    assert_accessible(page, "wizard step")
    next_button(page).click()
    assert page.title().startswith("Fehler:")
    assert page.locator("#error-summary").is_visible()
    assert page.input_value("#id_halter-vorname") == "Erika"
    assert_accessible(page, "wizard step with errors")
    page.locator("#error-summary a").first.click()
    page.fill("#id_halter-email", "erika@example.org")
    next_button(page).click()
    page.fill("#id_hund-hundename", "Bello")
    page.get_by_label("Nein").check()
    next_button(page).click()
    # Save and resume in a fresh browser context (another device).
    page.get_by_role("button", name="Speichern und später fortsetzen").click()
    assert_accessible(page, "save page")
    page.get_by_role("button", name="Link zum Fortsetzen erstellen").click()
    link = page.get_by_test_id("resume-link").inner_text()
    assert_accessible(page, "save page with link")
    other = browser.new_context(locale="de-DE")
    try:
        resumed = other.new_page()
        resumed.goto(link)
        assert "Nachweise" in resumed.locator("h1").inner_text()
        # A disguised file is refused with a clear message.
        resumed.set_input_files("#id_nachweise-versicherung", str(portal["disguised"]))
        next_button(resumed).click()
        assert "passt nicht" in resumed.locator("#error-summary").inner_text()
        assert_accessible(resumed, "upload step with errors")
        resumed.set_input_files("#id_nachweise-versicherung", str(portal["pdf"]))
        next_button(resumed).click()
        # Check page: change the dog's name and come back.
        assert "Prüfen Sie Ihre Angaben" in resumed.locator("h1").inner_text()
        assert_accessible(resumed, "check page")
        resumed.get_by_role("link", name=re.compile(r"Ändern\s*:\s*Name des Hundes")).click()
        resumed.fill("#id_hund-hundename", "Rex")
        resumed.get_by_role("button", name="Speichern und zurück zur Übersicht").click()
        assert "Rex" in resumed.locator("main").inner_text()
        resumed.get_by_role("button", name="Antrag verbindlich absenden").click()
        assert resumed.title().startswith("Fehler:")
        assert_accessible(resumed, "check page with errors")
        resumed.get_by_label(re.compile("Ich versichere")).check()
        resumed.get_by_role("button", name="Antrag verbindlich absenden").click()
        assert "Ihr Antrag ist eingegangen" in resumed.locator("main").inner_text()
        assert_accessible(resumed, "confirmation page")
        reference = resumed.get_by_test_id("reference").inner_text()
    finally:
        other.close()
    submission = Submission.objects.get(reference=reference)
    assert submission.gemeinde.name == "Rhönblick"
    assert submission.answers["hundename"] == "Rex"
    assert submission.attachments.get().original_name == "versicherung.pdf"


def test_gewerbe_anmeldung_in_jena_in_english(portal, page):
    page.goto(portal["url"] + "/")
    page.get_by_role("button", name="English").click()
    assert page.locator("html").get_attribute("lang") == "en"
    open_service(page, portal, "Jena", "Jena, Stadt", re.compile("Register a trade"), axe=True)
    next_button(page).click()
    assert page.title().startswith("Error:")
    assert_accessible(page, "English step with errors")
    fill_person(page)
    next_button(page).click()
    page.fill("#id_hund-hundename", "Firma")
    page.get_by_label("No").check()
    next_button(page).click()
    page.set_input_files("#id_nachweise-versicherung", str(portal["pdf"]))
    next_button(page).click()
    assert_accessible(page, "English check page")
    page.get_by_label(re.compile("I confirm")).check()
    page.get_by_role("button", name=re.compile("Submit")).click()
    assert_accessible(page, "English confirmation page")
    reference = page.get_by_test_id("reference").inner_text()
    secret = page.get_by_test_id("secret").inner_text()
    submission = Submission.objects.get(reference=reference)
    assert submission.gemeinde.name == "Jena, Stadt" and submission.language == "en"
    # Status page: wrong secret (error page), then the right one.
    page.goto(portal["url"] + "/status/")
    assert_accessible(page, "English status form")
    page.get_by_label("Reference number").fill(reference)
    page.get_by_label("Access code").fill("wrong")
    page.get_by_role("button", name=re.compile("Check status")).click()
    assert page.title().startswith("Error:")
    assert_accessible(page, "English status form with errors")
    page.get_by_label("Access code").fill(secret)
    page.get_by_role("button", name=re.compile("Check status")).click()
    assert "received" in page.get_by_test_id("status").inner_text()
    assert_accessible(page, "English status result")


STATIC_PAGES = [
    "/",
    "/barrierefreiheit/",
    "/impressum/",
    "/datenschutz/",
    "/quellen/",
    "/status/",
    "/gemeinden/?q=Erf",
    "/fortsetzen/falsch/",
    "/gibt-es-nicht/",
]


@pytest.mark.parametrize("language", ["de", "en"])
def test_static_and_error_pages_pass_axe(portal, page, language):
    page.goto(portal["url"] + "/")
    if language == "en":
        page.get_by_role("button", name="English").click()
    for path in STATIC_PAGES:
        page.goto(portal["url"] + path)
        assert page.locator("html").get_attribute("lang") == language
        assert_accessible(page, f"{path} ({language})")
    page.goto(portal["url"] + "/barrierefreiheit/")
    page.get_by_role("button", name=re.compile("Rückmeldung senden|Send feedback")).click()
    assert_accessible(page, f"feedback form with errors ({language})")


def test_a_form_can_be_completed_with_the_keyboard_only(portal, page):
    page.goto(portal["url"] + "/gemeinden/16066093/leistungen/hundeanmeldung/")
    keyboard = page.keyboard

    def tab_to(selector: str, limit: int = 60) -> None:
        for _ in range(limit):
            keyboard.press("Tab")
            if page.evaluate("s => document.activeElement.matches(s)", selector):
                return
        raise AssertionError(f"could not reach {selector} with the Tab key")

    tab_to("a.portal-skip-link")
    keyboard.press("Enter")
    tab_to("button[type=submit]:not([name=language])")
    keyboard.press("Enter")
    page.wait_for_url(re.compile("/schritt/halter/"))
    for selector, text in (("#id_halter-vorname", "Erika"), ("#id_halter-nachname", "Muster"),
                           ("#id_halter-email", "e@example.org")):  # fmt: skip
        tab_to(selector)
        keyboard.type(text)
    tab_to("button[name=wizard_next]")
    keyboard.press("Enter")
    page.wait_for_url(re.compile("/schritt/hund/"))
    tab_to("#id_hund-hundename")
    keyboard.type("Bello")
    tab_to("input[name='hund-gefaehrlich']")
    keyboard.press("ArrowDown")  # moves to and selects "Nein"
    assert page.is_checked("#id_hund-gefaehrlich_1")
    tab_to("button[name=wizard_next]")
    keyboard.press("Enter")
    page.wait_for_url(re.compile("/schritt/nachweise/"))
    # The file chooser opens on Space; Playwright answers it like the OS dialog would.
    tab_to("#id_nachweise-versicherung")
    with page.expect_file_chooser() as chooser:
        keyboard.press("Space")
    chooser.value.set_files(str(portal["pdf"]))
    tab_to("button[name=wizard_next]")
    keyboard.press("Enter")
    page.wait_for_url(re.compile("/pruefen/"))
    tab_to("#id_declaration")
    keyboard.press("Space")
    tab_to("button.kern-btn--primary")
    keyboard.press("Enter")
    page.wait_for_url(re.compile("/bestaetigung/"))
    assert Submission.objects.count() == 1


def test_a_form_can_be_completed_without_javascript(portal, browser):
    context = browser.new_context(java_script_enabled=False, locale="de-DE")
    try:
        page = context.new_page()
        page.goto(portal["url"] + "/")
        page.fill("#id_q", "Rhönblick")
        page.get_by_role("button", name="Gemeinde suchen").click()
        page.get_by_role("link", name="Rhönblick", exact=True).click()
        page.get_by_role("link", name=re.compile("Hund anmelden")).click()
        page.get_by_role("button", name="Antrag starten").click()
        fill_person(page)
        next_button(page).click()
        page.fill("#id_hund-hundename", "Bello")
        page.get_by_label("Ja").check()
        next_button(page).click()
        # The conditional step appears without any script.
        assert "Gefährlicher Hund" in page.locator("h1").inner_text()
        page.fill("#id_gefahr-gutachten", "G-123")
        next_button(page).click()
        page.set_input_files("#id_nachweise-versicherung", str(portal["pdf"]))
        next_button(page).click()
        page.get_by_label(re.compile("Ich versichere")).check()
        page.get_by_role("button", name="Antrag verbindlich absenden").click()
        assert "Ihr Antrag ist eingegangen" in page.locator("main").inner_text()
    finally:
        context.close()
    assert Submission.objects.get().answers["gutachten"] == "G-123"


def test_pages_are_usable_at_320_pixels(portal, browser):
    context = browser.new_context(viewport={"width": 320, "height": 640}, locale="de-DE")
    try:
        page = context.new_page()
        for path in ("/", "/gemeinden/16066093/leistungen/hundeanmeldung/", "/status/"):
            page.goto(portal["url"] + path)
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, f"{path} scrolls sideways at 320 px by {overflow}px"
    finally:
        context.close()


def test_session_timeout_warning_appears_and_can_be_extended(portal, page, settings):
    page.clock.install()
    page.goto(portal["url"] + "/gemeinden/16066093/leistungen/hundeanmeldung/")
    page.get_by_role("button", name="Antrag starten").click()
    warning = page.locator("[data-session-warning]")
    assert warning.is_hidden()
    # Five minutes before the session (SESSION_COOKIE_AGE) ends, the warning appears.
    page.clock.fast_forward(settings.SESSION_COOKIE_AGE * 1000 - 290_000)
    assert warning.is_visible()
    assert page.evaluate("document.activeElement.hasAttribute('data-session-extend')")
    assert_accessible(page, "session warning")
    page.get_by_role("button", name="Sitzung verlängern").click()
    expect(warning).to_be_hidden()
