"""The citizen's journey in a real browser (system Chromium), checked by axe-core.

Two services in two municipalities from the official Gemeindeverzeichnis,
from the start page to the confirmation: one validation error, one upload,
one change from the check page, save and resume in a fresh browser context.
Plus a keyboard-only journey, a journey without JavaScript, and axe on every
page type in German and English (pages with errors included).
"""

from __future__ import annotations

import datetime
import re
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.core.management import call_command
from playwright.sync_api import expect

from submissions.models import Submission
from tests.citizen.citizen_support import PDF

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
AXE = Axe()


@pytest.fixture
def portal(live_server, tmp_path):
    """The official municipalities, responsibility rules and the catalogue's forms."""
    call_command("import_gv100ad", "municipalities/data/GV100AD_30112025.txt", verbosity=0)
    call_command("seed_responsibility", verbosity=0)
    call_command("load_catalogue", verbosity=0)
    upload = tmp_path / "nachweis.pdf"
    upload.write_bytes(PDF)
    disguised = tmp_path / "rechnung.pdf"
    disguised.write_bytes(b"MZ\x90\x00" + b"\x00" * 64)
    return {"url": live_server.url, "pdf": upload, "disguised": disguised}


def assert_accessible(page, what: str) -> None:
    results = AXE.run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}})
    assert results.violations_count == 0, f"{what} ({page.url}):\n{results.generate_report()}"


def open_service(page, portal, query: str, gemeinde: str, service, axe: bool) -> None:
    page.goto(portal["url"] + "/")
    if axe:
        assert_accessible(page, "start page")
    page.get_by_label(re.compile("Gemeinde oder Postleitzahl|municipality or postcode")).fill(query)
    page.get_by_role("button", name=re.compile("Gemeinde suchen|Find")).click()
    if axe:
        assert_accessible(page, "search results")
    page.get_by_role("link", name=gemeinde, exact=True).click()
    if axe:
        assert_accessible(page, "municipality page")
    page.get_by_role("link", name=service).click()
    if axe:
        assert_accessible(page, "service page")
    page.get_by_role("button", name=re.compile("Antrag starten|Start application")).click()


def next_button(page):
    return page.get_by_role("button", name=re.compile(r"^(Weiter|Continue)$"))


def day(offset: int) -> tuple[str, str, str]:
    value = datetime.date.today() + datetime.timedelta(days=offset)
    return (str(value.day), str(value.month), str(value.year))


def fill_step(page, step: str, values: dict) -> None:
    """Fill one catalogue step by the fields' names; values by kind of input."""
    for name, value in values.items():
        html = f"{step}-{name}"
        if isinstance(value, tuple):  # a date: day, month, year
            for part, text in zip(("day", "month", "year"), value, strict=True):
                page.fill(f"[name='{html}_{part}']", text)
        elif isinstance(value, Path):
            page.set_input_files(f"[name='{html}']", str(value))
        elif value is True:
            page.check(f"[name='{html}']")
        elif isinstance(value, list):
            for option in value:
                page.check(f"[name='{html}'][value='{option}']")
        elif page.locator(f"input[type=radio][name='{html}']").count():
            page.check(f"[name='{html}'][value='{value}']")
        elif page.locator(f"select[name='{html}']").count():
            page.select_option(f"[name='{html}']", value)
        else:
            page.fill(f"[name='{html}']", value)


def walk(page, steps: list[tuple[str, dict]]) -> None:
    for step, values in steps:
        assert f"/schritt/{step}/" in page.url, f"expected step {step}, at {page.url}"
        fill_step(page, step, values)
        next_button(page).click()
        page.wait_for_load_state()


def hund_steps(pdf: Path) -> list[tuple[str, dict]]:
    return [
        ("hunde", {
            "dogs-0-dog_name": "Bello", "dogs-0-chip_number": "276098106543210",
            "dogs-0-birth_date": ("1", "3", "2020"), "dogs-0-breed": "Mischling",
            "dogs-0-sex": "ruede", "dogs-0-colour": "braun", "dogs-0-keeping_since": day(-3),
            "dogs-0-dangerous": "no",
        }),
        ("haltung", {"other_address": "no"}),
        ("ermaessigung", {"reduction": "tierheim", "reduction_proof": pdf}),
        ("sepa", {"sepa_mandate": "no"}),
    ]  # fmt: skip


HALTER = {
    "surname": "Mustermann", "given_names": "Erika", "birth_date": ("12", "5", "1980"),
    "street": "Hauptstraße 1", "postcode": "98634", "city": "Rhönblick",
    "email": "erika@example.org",
}  # fmt: skip


def gewerbe_steps(pdf: Path) -> list[tuple[str, dict]]:
    return [
        # A sole trader has no registered company name: that question does not apply.
        ("betrieb", {"legal_form": "einzel"}),
        ("person", {
            "surname": "Muster", "given_names": "Max", "sex": "maennlich",
            "birth_date": ("3", "4", "1985"), "birth_place": "Jena", "birth_country": "Deutschland",
            "nationality": "deutsch", "home_street": "Markt 1", "home_postcode": "07743",
            "home_city": "Jena", "email": "max@example.org",
        }),
        ("betriebsstaette", {
            "site_street": "Löbdergraben 2", "site_postcode": "07743", "site_city": "Jena",
            "establishment": "hauptniederlassung",
        }),
        ("taetigkeit", {
            "activity": "Softwareentwicklung und IT-Beratung", "side_business": "no",
            "start_date": day(10), "business_kind": ["sonstiges"], "staff_fulltime": "0",
            "staff_parttime": "0",
        }),
        ("anlass", {"reason": "neuerrichtung"}),
        ("erlaubnisse", {
            "has_permit": "yes", "permit_date": ("1", "2", "2024"),
            "permit_authority": "Stadt Jena", "permit_file": pdf, "has_craft_card": "no",
        }),
    ]  # fmt: skip


def test_hundeanmeldung_in_rhoenblick_with_error_upload_change_and_resume(portal, page, browser):
    open_service(
        page, portal, "Rhönbl", "Gemeinde Rhönblick", re.compile("Hund anmelden"), axe=True
    )
    # Step 1 with a validation error: summary, "Fehler:" title, typed values kept.
    fill_step(page, "halter", {**HALTER, "postcode": "9863"})
    assert_accessible(page, "wizard step")
    next_button(page).click()
    # The click starts a navigation: wait for the new page's title.
    expect(page).to_have_title(re.compile("^" + re.escape("Fehler:")))
    assert page.locator("#error-summary").is_visible()
    assert page.input_value("[name='halter-given_names']") == "Erika"
    assert page.input_value("[name='halter-postcode']") == "9863"
    assert_accessible(page, "wizard step with errors")
    page.locator("#error-summary a").first.click()
    page.fill("[name='halter-postcode']", "98634")
    next_button(page).click()
    steps = hund_steps(portal["pdf"])
    walk(page, steps[:2])
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
        # A disguised file is refused with a clear message.
        fill_step(resumed, "ermaessigung", {"reduction": "tierheim"})
        resumed.set_input_files("[name='ermaessigung-reduction_proof']", str(portal["disguised"]))
        next_button(resumed).click()
        expect(resumed).to_have_title(re.compile("^" + re.escape("Fehler:")))
        assert_accessible(resumed, "upload step with errors")
        walk(resumed, steps[2:])
        # Check page: change the dog's name and come back.
        expect(resumed.locator("h1")).to_contain_text("Prüfen Sie Ihre Angaben")
        assert_accessible(resumed, "check page")
        resumed.get_by_role("link", name=re.compile(r"Ändern\s*:.*Name des Hundes")).click()
        resumed.fill("[name='hunde-dogs-0-dog_name']", "Rex")
        resumed.get_by_role("button", name="Speichern und zurück zur Übersicht").click()
        expect(resumed.locator("main")).to_contain_text("Rex")
        resumed.get_by_role("button", name="Antrag verbindlich absenden").click()
        expect(resumed).to_have_title(re.compile("^" + re.escape("Fehler:")))
        assert_accessible(resumed, "check page with errors")
        resumed.get_by_label(re.compile("Ich versichere, dass meine Angaben")).last.check()
        resumed.get_by_role("button", name="Antrag verbindlich absenden").click()
        expect(resumed.locator("main")).to_contain_text("Ihr Antrag ist eingegangen")
        assert_accessible(resumed, "confirmation page")
        reference = resumed.get_by_test_id("reference").inner_text()
    finally:
        other.close()
    submission = Submission.objects.get(reference=reference)
    assert submission.gemeinde.name == "Rhönblick"
    assert submission.answers["dogs"][0]["dog_name"] == "Rex"
    assert submission.attachments.get().original_name == "nachweis.pdf"


def test_gewerbe_anmeldung_in_jena_in_english(portal, page):
    page.goto(portal["url"] + "/")
    page.get_by_role("button", name="English").click()
    assert page.locator("html").get_attribute("lang") == "en"
    open_service(page, portal, "Jena", "City of Jena", re.compile("Register a trade"), axe=True)
    next_button(page).click()
    # The click starts a navigation: wait for the new page's title.
    expect(page).to_have_title(re.compile("^" + re.escape("Error:")))
    assert_accessible(page, "English step with errors")
    steps = gewerbe_steps(portal["pdf"])
    walk(page, steps[:3])
    # "Goods of all kinds" is refused as too general; the rest of the step is kept.
    fill_step(page, "taetigkeit", {**steps[3][1], "activity": "Waren aller Art"})
    next_button(page).click()
    expect(page.locator("#error-summary")).to_contain_text("too general")
    assert page.input_value("[name='taetigkeit-staff_fulltime']") == "0"
    walk(page, steps[3:])
    assert_accessible(page, "English check page")
    page.get_by_label(re.compile("I confirm that")).last.check()
    page.get_by_role("button", name=re.compile("Submit")).click()
    assert_accessible(page, "English confirmation page")
    reference = page.get_by_test_id("reference").inner_text()
    secret = page.get_by_test_id("secret").inner_text()
    submission = Submission.objects.get(reference=reference)
    assert submission.gemeinde.name == "Jena, Stadt" and submission.language == "en"
    assert submission.attachments.count() == 1
    # Status page: wrong secret (error page), then the right one.
    page.goto(portal["url"] + "/status/")
    assert_accessible(page, "English status form")
    page.get_by_label("Reference number").fill(reference)
    page.get_by_label("Access code").fill("wrong")
    page.get_by_role("button", name=re.compile("Check status")).click()
    # The click starts a navigation: wait for the new page's title.
    expect(page).to_have_title(re.compile("^" + re.escape("Error:")))
    assert_accessible(page, "English status form with errors")
    page.get_by_label("Access code").fill(secret)
    page.get_by_role("button", name=re.compile("Check status")).click()
    expect(page.get_by_test_id("status")).to_contain_text("received")
    assert_accessible(page, "English status result")


STATIC_PAGES = [
    "/",
    "/barrierefreiheit/",
    "/impressum/",
    "/datenschutz/",
    "/leichte-sprache/",
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
    """Tab, type, Space, arrow keys and Enter only: no clicks, no fill()."""
    page.goto(portal["url"] + "/gemeinden/16066093/leistungen/hundeanmeldung/")
    keyboard = page.keyboard

    def tab_to(selector: str, limit: int = 80) -> None:
        for _ in range(limit):
            keyboard.press("Tab")
            if page.evaluate("s => document.activeElement.matches(s)", selector):
                return
        raise AssertionError(f"could not reach {selector} with the Tab key")

    def press_next() -> None:
        tab_to("button[name=wizard_next]")
        with page.expect_navigation():
            keyboard.press("Enter")

    def keyboard_step(step: str, values: dict) -> None:
        for name, value in values.items():
            html = f"{step}-{name}"
            if isinstance(value, tuple):
                for part, text in zip(("day", "month", "year"), value, strict=True):
                    tab_to(f"[name='{html}_{part}']")
                    keyboard.type(text)
            elif isinstance(value, Path):
                tab_to(f"[name='{html}']")
                with page.expect_file_chooser() as chooser:
                    keyboard.press("Space")
                chooser.value.set_files(str(value))
            elif value is True:
                tab_to(f"[name='{html}']")
                keyboard.press("Space")
            elif page.locator(f"input[type=radio][name='{html}']").count():
                options = page.locator(f"input[type=radio][name='{html}']")
                values_ = [options.nth(i).get_attribute("value") for i in range(options.count())]
                tab_to(f"input[type=radio][name='{html}']")
                index = values_.index(value)
                if index == 0:
                    keyboard.press("Space")
                for _ in range(index):
                    keyboard.press("ArrowDown")
                assert page.is_checked(f"[name='{html}'][value='{value}']")
            else:
                tab_to(f"[name='{html}']")
                keyboard.type(value)

    tab_to("a.portal-skip-link")
    keyboard.press("Enter")
    tab_to("button[type=submit]:not([name=language])")
    keyboard.press("Enter")
    page.wait_for_url(re.compile("/schritt/halter/"))
    for step, values in [("halter", HALTER), *hund_steps(portal["pdf"])]:
        assert f"/schritt/{step}/" in page.url, page.locator("main").inner_text()
        keyboard_step(step, values)
        press_next()
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
        open_service(page, portal, "Erfurt", "Stadt Erfurt", re.compile("Gewerbe"), axe=False)
        steps = gewerbe_steps(portal["pdf"])
        # Answering "Übernahme" reveals its follow-up questions on the same page without
        # script: they are shown with a note and validated only when they apply.
        steps[4] = ("anlass", {"reason": "uebernahme", "takeover_kind": "kauf",
                               "former_operator": "Alt GmbH"})  # fmt: skip
        walk(page, steps)
        page.get_by_label(re.compile("Ich versichere, dass meine Angaben")).last.check()
        page.get_by_role("button", name="Antrag verbindlich absenden").click()
        expect(page.locator("main")).to_contain_text("Ihr Antrag ist eingegangen")
    finally:
        context.close()
    submission = Submission.objects.get()
    assert submission.answers["former_operator"] == "Alt GmbH"
    assert submission.gemeinde.name == "Erfurt, Stadt"


def test_pages_are_usable_at_320_pixels(portal, browser):
    context = browser.new_context(viewport={"width": 320, "height": 640}, locale="de-DE")

    def assert_no_sideways_scrolling(page) -> None:
        # A click only waits until the next document has started loading; measure it once loaded.
        page.wait_for_load_state()
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{page.url} scrolls sideways at 320 px by {overflow}px"

    try:
        page = context.new_page()
        for path in ("/", "/gemeinden/?q=Erfurt", "/status/", "/barrierefreiheit/"):
            page.goto(portal["url"] + path)
            assert_no_sideways_scrolling(page)
        page.goto(portal["url"] + "/gemeinden/16066093/leistungen/hundeanmeldung/")
        assert_no_sideways_scrolling(page)
        page.get_by_role("button", name="Antrag starten").click()
        next_button(page).click()  # the first step with every error shown
        expect(page.locator("#error-summary")).to_be_visible()
        assert_no_sideways_scrolling(page)
        walk(page, [("halter", HALTER), *hund_steps(portal["pdf"])])
        assert "/pruefen/" in page.url
        assert_no_sideways_scrolling(page)
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
