"""The designer in a real browser, end to end and without typing any JSON.

Editor A creates a service and a three-step form from nothing (text, date, choice,
repeatable group, file), previews it in German and English at desktop width and at
320 px, checks it and sends it to review; editor B approves and publishes it; a
citizen files it. axe-core runs on every designer page (tree, the side panel of each
field kind, preview, check, delete confirmation). A second test adds, moves and edits
a field with the keyboard only.

The steps are helper functions so that further designer pages (conditions,
validations, fees) can be added to the journey as steps of their own.
"""

from __future__ import annotations

import datetime
import re
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.core.cache import cache
from playwright.sync_api import expect

from forms_catalog.models import FormVersion, Service
from forms_catalog.services import form_version_create_draft, form_version_update_draft
from submissions.models import Submission
from tests.backoffice.backoffice_support import make_staff
from tests.citizen.citizen_support import municipal_rule, municipality
from tests.citizen.journey_driver import fill_step, make_file, submit_from_check_page, submit_step
from tests.factories import ServiceFactory
from tests.forms_catalog.helpers import T, field
from tests.forms_catalog.test_review_browser import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WCAG_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
AXE = Axe()


class Pages:
    """axe-core on each designer page visited; all findings reported at the end."""

    def __init__(self, page):
        self.page = page
        self.findings: list[str] = []
        self.checked: list[str] = []

    def check(self, what: str) -> None:
        results = AXE.run(self.page, options=WCAG_AA)
        assert results.response.get("testEngine", {}).get("name") == "axe-core"
        self.checked.append(what)
        if results.violations_count:
            self.findings.append(f"{what} ({self.page.url}):\n{results.generate_report()}")

    def assert_clean(self) -> None:
        assert not self.findings, "\n\n".join(self.findings)


# --- designer steps --------------------------------------------------------------
def click_and_wait(page, locator) -> None:
    with page.expect_navigation():
        locator.click()
    page.wait_for_load_state()


def panel_heading(page):
    return page.locator("#panel-heading")


def create_service(
    page, base: str, *, slug: str, name_de: str, name_en: str, pages: Pages | None = None
) -> None:
    """The service's names and ids in the admin's own form, then "Formular gestalten"."""
    page.goto(base + "/admin/forms_catalog/service/add/")
    expect(page.locator("#id_slug")).to_be_visible()
    page.fill("#id_slug", slug)
    page.fill("#id_name_de", name_de)
    page.fill("#id_name_en", name_en)
    page.fill("#id_leistungsschluessel", "99000000000000")
    page.fill("#id_summary_de", "Ein Antrag, im Designer gebaut.")
    page.fill("#id_summary_en", "An application built in the designer.")
    click_and_wait(page, page.locator("input[name=_continue]"))
    click_and_wait(page, page.get_by_role("link", name="Formular gestalten").first)
    expect(page.get_by_role("button", name="Entwurf anlegen und gestalten")).to_be_visible()
    if pages is not None:
        pages.check("Formular gestalten: new draft")
    click_and_wait(page, page.get_by_role("button", name="Entwurf anlegen und gestalten"))
    expect(page.locator(".portal-designer__tabs")).to_be_visible()


def save_settings(page, values: dict[str, str | bool]) -> None:
    """Fill the side panel's settings (by input id) and save."""
    for element_id, value in values.items():
        target = page.locator(f"#{element_id}")
        if isinstance(value, bool):
            target.set_checked(value)
        elif target.evaluate("e => e.tagName") == "SELECT":
            target.select_option(value)
        else:
            target.fill(value)
    click_and_wait(
        page,
        page.locator(".portal-designer__settings").get_by_role("button", name="Speichern").first,
    )
    expect(page.locator(".messagelist")).to_contain_text("Gespeichert")


def add_step(page, title_de: str, title_en: str) -> None:
    page.fill("#id_new_step_title", title_de)
    click_and_wait(page, page.get_by_role("button", name="Schritt hinzufügen"))
    expect(panel_heading(page)).to_contain_text(title_de)
    save_settings(page, {"id_title__en": title_en})


def select(page, link: str, title: str) -> None:
    click_and_wait(page, page.locator(".portal-designer__tree").get_by_role("link", name=link))
    expect(panel_heading(page)).to_contain_text(title)


def add_element(page, kind: str, label_de: str, settings: dict[str, str | bool]) -> None:
    """Add a field or group after/inside the selected element and fill its settings."""
    page.select_option("#id_new_kind", kind)
    page.fill("#id_new_label", label_de)
    click_and_wait(page, page.get_by_role("button", name="Hinzufügen", exact=True))
    expect(panel_heading(page)).to_contain_text(label_de)
    save_settings(page, settings)


def open_tab(page, name: str) -> None:
    click_and_wait(page, page.locator(".portal-designer__tabs").get_by_role("link", name=name))
    expect(page.locator(".portal-designer__tabs a[aria-current=page]")).to_have_text(name)


def build_three_step_form(page, pages: Pages) -> None:
    pages.check("designer, empty form")
    open_tab(page, "Prüfen")
    expect(page.locator(".portal-designer__problems")).to_contain_text("noch keinen Schritt")
    pages.check("check page with a problem")
    open_tab(page, "Aufbau")
    add_step(page, "Angaben zur Person", "Personal details")
    pages.check("designer, side panel of a step")
    add_element(
        page,
        "text",
        "Familienname",
        {"id_label__en": "Surname", "id_role": "applicant_name", "id_autocomplete": "family-name"},
    )
    pages.check("designer, side panel of a text field")
    add_element(page, "date", "Geburtsdatum", {"id_label__en": "Date of birth", "id_past": True})
    pages.check("designer, side panel of a date field")
    add_element(page, "email", "E-Mail-Adresse", {"id_label__en": "E-mail address"})

    add_step(page, "Antrag", "Application")
    add_element(
        page,
        "choice",
        "Art des Antrags",
        {
            "id_label__en": "Kind of application",
            "id_option-0-de": "Erstantrag",
            "id_option-0-en": "First application",
            "id_option-1-de": "Verlängerung",
            "id_option-1-en": "Renewal",
        },
    )
    pages.check("designer, side panel of a choice field")
    add_element(
        page,
        "repeatable_group",
        "Kinder",
        {"id_label__en": "Children", "id_item_label__de": "Kind", "id_item_label__en": "Child"},
    )
    pages.check("designer, side panel of a repeatable group")
    add_element(page, "text", "Vorname des Kindes", {"id_label__en": "Child's first name"})
    pages.check("designer, side panel of a field in a group")

    add_step(page, "Unterlagen", "Documents")
    add_element(
        page,
        "file",
        "Nachweis",
        {"id_label__en": "Proof", "id_help__de": "Als PDF.", "id_help__en": "As a PDF."},
    )
    pages.check("designer, side panel of a file field")
    # Delete needs a confirmation; this one is cancelled.
    click_and_wait(page, page.get_by_role("link", name="Löschen …"))
    expect(page.locator(".portal-designer__confirm")).to_contain_text("wirklich löschen")
    pages.check("designer, delete confirmation")
    click_and_wait(page, page.get_by_role("link", name="Abbrechen"))


def add_condition_validation_and_fee(page, pages: Pages) -> None:
    """With the pickers, no JSON: "Kinder" only for a renewal, the date of birth before
    today, and a fixed fee of 25,00 €."""
    select(page, "Kinder", "Kinder")
    click_and_wait(page, page.get_by_role("link", name="Bedingung bearbeiten"))
    expect(page.locator("#cond-heading")).to_contain_text("Kinder")
    page.select_option("#id_cond-0-field", "art_des_antrags")
    expect(page.locator("#id_cond-0-value")).to_contain_text("Verlängerung")
    page.select_option("#id_cond-0-value", "verlaengerung")
    click_and_wait(page, page.get_by_role("button", name="Bedingung speichern"))
    expect(page.locator(".messagelist")).to_contain_text("Die Bedingung wurde gespeichert.")
    pages.check("rules page with a condition")

    open_tab(page, "Aufbau")
    select(page, "1. Angaben zur Person", "Angaben zur Person")
    click_and_wait(page, page.get_by_role("link", name="Bedingung bearbeiten"))
    page.select_option("#id_rule-left", "geburtsdatum")
    page.select_option("#id_rule-op", "lt")
    page.check("input[name=rule-right_kind][value=today]")
    page.fill("#id_rule-message_de", "Das Geburtsdatum muss vor dem heutigen Tag liegen.")
    page.fill("#id_rule-message_en", "The date of birth must be before today.")
    page.check("input[name=rule-show_at][value=geburtsdatum]")
    click_and_wait(page, page.get_by_role("button", name="Prüfregel speichern"))
    expect(page.locator(".messagelist")).to_contain_text("wurde gespeichert")
    pages.check("rules page with a validation")

    open_tab(page, "Gebühren")
    page.fill("#id_line-label_de", "Bearbeitungsgebühr")
    page.fill("#id_line-label_en", "Processing fee")
    page.check("input[name=line-amount_kind][value=fixed]")
    page.fill("#id_line-amount", "25,00")
    click_and_wait(page, page.get_by_role("button", name="Gebührenposition speichern"))
    expect(page.locator("#fee-lines")).to_contain_text("25,00 €")
    pages.check("fees page with a line")
    open_tab(page, "Aufbau")


def preview(page, pages: Pages, base: str) -> None:
    select(page, "1. Angaben zur Person", "Angaben zur Person")
    open_tab(page, "Vorschau")
    frame = page.frame_locator("#designer-preview-frame")
    expect(frame.locator("h1")).to_have_text("Angaben zur Person")
    expect(frame.locator("main")).to_contain_text("Familienname")
    pages.check("preview, German, desktop")
    click_and_wait(page, page.get_by_role("link", name="English"))
    expect(frame.locator("h1")).to_have_text("Personal details")
    expect(frame.locator("main")).to_contain_text("Surname")
    click_and_wait(page, page.get_by_role("link", name="Schmal (320 px, Smartphone)"))
    expect(page.locator("#designer-preview-frame")).to_have_class(re.compile("--320"))
    expect(frame.locator("h1")).to_have_text("Personal details")
    width = page.locator("#designer-preview-frame").evaluate("e => e.clientWidth")
    assert width == 320
    pages.check("preview, English, 320 px")
    click_and_wait(page, page.get_by_role("link", name="3. Unterlagen"))
    expect(frame.locator("h1")).to_have_text("Documents")
    # The framed page itself, as the citizen gets it.
    frame_url = page.locator("#designer-preview-frame").get_attribute("src")
    response = page.goto(base + frame_url)
    assert "frame-ancestors 'self'" in response.headers["content-security-policy"]
    expect(page.locator("h1")).to_have_text("Documents")
    pages.check("preview page itself")
    page.go_back()
    expect(page.locator("#designer-preview-frame")).to_be_visible()


def check_and_submit_for_review(page, pages: Pages) -> None:
    open_tab(page, "Prüfen")
    problems = page.locator(".portal-designer__problems")
    assert problems.count() == 0, problems.inner_text()
    expect(page.locator("#check-summary")).to_contain_text("Keine Probleme gefunden")
    pages.check("check page")
    click_and_wait(page, page.get_by_role("link", name="Zur Prüfung senden …"))
    page.fill("#id_submit-note", "Neues Formular aus dem Designer")
    click_and_wait(page, page.locator("button[value=submit]"))
    expect(page.locator("#version-status")).to_have_text("zur Prüfung")


def approve_and_publish(page, base: str, version: FormVersion) -> None:
    page.goto(f"{base}/admin/forms_catalog/formversion/{version.pk}/review/")
    page.fill("#id_approve-note", "Geprüft.")
    page.check("input[name=approve-when][value=now]")
    click_and_wait(page, page.locator("button[value=approve]"))
    expect(page.locator("#content")).to_contain_text("Das ändert sich landesweit")
    click_and_wait(page, page.get_by_role("button", name=re.compile("jetzt veröffentlichen")))
    expect(page.locator("#version-status")).to_have_text("veröffentlicht")


def citizen_files(page, base: str, ags: str, slug: str, folder: Path) -> None:
    page.goto(f"{base}/gemeinden/{ags}/leistungen/{slug}/")
    click_and_wait(page, page.get_by_role("button", name="Antrag starten"))
    expect(page.locator("h1")).to_have_text("Angaben zur Person")
    fill_step(
        page,
        "angaben_zur_person",
        {
            "familienname": "Mustermann",
            "geburtsdatum": datetime.date(1980, 2, 29),
            "e_mail_adresse": "erika@example.org",
        },
    )
    submit_step(page)
    expect(page.locator("h1")).to_have_text("Antrag")
    fill_step(
        page,
        "antrag",
        {"art_des_antrags": "verlaengerung", "kinder-0-vorname_des_kindes": "Lina"},
    )
    submit_step(page)
    expect(page.locator("h1")).to_have_text("Unterlagen")
    fill_step(page, "unterlagen", {"nachweis": make_file(folder, "nachweis.pdf")})
    submit_step(page)
    expect(page.locator("main")).to_contain_text("Mustermann")
    # The fee from the picker, and the children that only a renewal asks for.
    expect(page.locator("main")).to_contain_text("25,00")
    expect(page.locator("main")).to_contain_text("Lina")
    submit_from_check_page(page)


def test_an_editor_builds_a_form_from_nothing_a_second_approves_and_a_citizen_files_it(
    live_server, browser, tmp_path
):
    cache.clear()
    author = make_staff("kz_designerin", "kompetenzzentrum", login=False)
    reviewer = make_staff("kz_zweite", "kompetenzzentrum", login=False)
    base = live_server.url

    context, page = login(browser, base, author)
    pages = Pages(page)
    create_service(
        page,
        base,
        slug="designer-antrag",
        name_de="Designer-Antrag",
        name_en="Designer form",
        pages=pages,
    )
    build_three_step_form(page, pages)
    add_condition_validation_and_fee(page, pages)
    preview(page, pages, base)
    check_and_submit_for_review(page, pages)
    context.close()
    pages.assert_clean()

    service = Service.objects.get(slug="designer-antrag")
    version = FormVersion.objects.get(service=service)
    steps = version.definition["steps"]
    assert [s["id"] for s in steps] == ["angaben_zur_person", "antrag", "unterlagen"]
    kinds = [f["type"] for s in steps for f in s["fields"]]
    assert kinds == ["text", "date", "email", "choice", "group", "file"]
    assert steps[1]["fields"][1]["visible_if"] == {
        "eq": [{"field": "art_des_antrags"}, "verlaengerung"]
    }
    assert [rule["fields"] for rule in steps[0]["rules"]] == [["geburtsdatum"]]
    assert [line["amount"] for line in version.definition["fees"]["lines"]] == [25]

    context, page = login(browser, base, reviewer)
    approve_and_publish(page, base, version)
    context.close()

    # Which office is responsible is the municipalities' data (Zuständigkeitsregel).
    gemeinde, _office = municipality("Rhönblick", "Gemeindeverwaltung Rhönblick")
    municipal_rule(service)
    citizen = browser.new_context(locale="de-DE")
    page = citizen.new_page()
    page.set_default_timeout(15_000)
    citizen_files(page, base, gemeinde.ags, service.slug, tmp_path)
    citizen.close()
    submission = Submission.objects.get(form_version=version)
    assert submission.answers["familienname"] == "Mustermann"
    assert submission.answers["art_des_antrags"] == "verlaengerung"
    assert submission.answers["kinder"] == [{"vorname_des_kindes": "Lina"}]
    assert submission.answers["nachweis"][0]["name"] == "nachweis.pdf"


# --- keyboard only ---------------------------------------------------------------
def tab_to(page, condition: str, limit: int = 200) -> None:
    """Press Tab until the focused element satisfies the JS `condition` on `e`."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"(() => {{ const e = document.activeElement; return {condition}; }})()"):
            return
    raise AssertionError(f"Tab never reached an element with {condition}")


def press_and_wait(page, key: str) -> None:
    with page.expect_navigation():
        page.keyboard.press(key)
    page.wait_for_load_state()


def test_adding_moving_and_editing_a_field_with_the_keyboard_only(live_server, browser):
    editor = make_staff("kz_tastatur", "kompetenzzentrum", login=False)
    service = ServiceFactory(slug="tastatur", name_de="Tastatur")
    draft = form_version_create_draft(service=service, user=editor.user)
    definition = {
        "schema_version": 1,
        "steps": [{"id": "s", "title": T("Schritt", "Step"), "fields": [field("a", "text")]}],
    }
    form_version_update_draft(version=draft, definition=definition, user=editor.user)
    context, page = login(browser, live_server.url, editor)
    page.goto(
        f"{live_server.url}/admin/forms_catalog/formversion/{draft.pk}/designer/?element=steps/s"
    )
    expect(panel_heading(page)).to_contain_text("Schritt")

    # Add: choose the type with the arrow keys, type the label, Enter.
    tab_to(page, "e.id === 'id_new_kind'")
    for _ in range(30):
        if page.evaluate("document.activeElement.value") == "telephone":
            break
        page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.value") == "telephone"
    page.keyboard.press("Tab")
    page.keyboard.type("Telefon")
    press_and_wait(page, "Enter")
    expect(panel_heading(page)).to_contain_text("Telefon")
    draft.refresh_from_db()
    assert [f["id"] for f in draft.definition["steps"][0]["fields"]] == ["a", "telefon"]

    # Move it up with the button "Nach oben" (Space activates a button).
    tab_to(page, "e.tagName === 'BUTTON' && e.value === 'up'")
    press_and_wait(page, "Space")
    expect(page.locator(".messagelist")).to_contain_text("Verschoben")
    draft.refresh_from_db()
    assert [f["id"] for f in draft.definition["steps"][0]["fields"]] == ["telefon", "a"]

    # Edit its label: select the old text, type the new one, Enter saves.
    tab_to(page, "e.id === 'id_label__de'")
    page.keyboard.press("Control+A")
    page.keyboard.type("Telefon für Rückfragen")
    page.keyboard.press("Tab")
    page.keyboard.type("Phone for questions")
    press_and_wait(page, "Enter")
    expect(page.locator(".messagelist")).to_contain_text("Gespeichert")
    expect(panel_heading(page)).to_contain_text("Telefon für Rückfragen")
    draft.refresh_from_db()
    moved = draft.definition["steps"][0]["fields"][0]
    assert moved["label"] == {"de": "Telefon für Rückfragen", "en": "Phone for questions"}
    assert moved["type"] == "telephone"
    context.close()
