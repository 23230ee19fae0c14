"""The pickers in a real browser under the strict CSP, with no JSON typed anywhere: an
editor adds a condition to a field of a catalogue form's draft, replaces the validation
"Ende mindestens Beginn" and adds a fixed fee line; after the four-eyes review the
citizen's page hides the field until its condition holds and refuses an end before the
start with the editor's message. axe-core finds no WCAG 2.1 AA violation on the pages,
and the condition picker works with the keyboard alone."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from forms_catalog.models import FormVersion, Service
from forms_catalog.services import (
    form_version_approve,
    form_version_create_draft,
    form_version_publish,
    form_version_submit_for_review,
)
from tests.backoffice.backoffice_support import current_totp, make_staff
from tests.citizen.test_citizen_browser import (  # noqa: F401 - portal is a fixture
    day,
    fill_step,
    next_button,
    portal,
)
from tests.citizen.test_uploads_conditions_browser import event_details, start_event_registration
from tests.factories import ServiceFactory
from tests.forms_catalog.designer.rules_support import picker_definition
from tests.forms_catalog.test_review_browser import login, no_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MESSAGE_DE = "Der letzte Tag darf nicht vor dem ersten liegen (Prüfregel aus dem Designer)."
MESSAGE_EN = "The last day cannot be before the first (rule from the designer)."


def open_draft(editor) -> FormVersion:
    service = Service.objects.get(slug="veranstaltungsanmeldung")
    return form_version_create_draft(service=service, user=editor.user)


def rules_page(base: str, version: FormVersion, element: str) -> str:
    return f"{base}/admin/forms_catalog/formversion/{version.pk}/designer/regeln/?element={element}"


def add_condition(page, base, version) -> None:
    """Anzeigen, wenn „Art der Veranstaltung“ ist gleich „Konzert“ at "amplified_music"."""
    page.goto(rules_page(base, version, "steps/veranstaltung/fields/amplified_music"))
    expect(page.locator("#cond-heading")).to_contain_text("Gibt es Musik über Lautsprecher?")
    no_violations(page, "rules page")
    page.select_option("#id_cond-0-field", "event_kind")
    # designer_rules.js follows the field at once: its comparisons and its options.
    expect(page.locator("#id_cond-0-value")).to_contain_text("Konzert")
    expect(page.locator("#id_cond-0-op")).not_to_contain_text("ist größer als")
    no_violations(page, "rules page after a field change")
    page.select_option("#id_cond-0-value", "konzert")
    page.get_by_role("button", name="Bedingung speichern").click()
    expect(page.locator(".messagelist")).to_contain_text("Die Bedingung wurde gespeichert.")
    no_violations(page, "rules page with a condition")


def replace_validation(page, base, version) -> None:
    """Delete the catalogue's rule and add "Letzter Tag mindestens Erster Tag" again."""
    page.goto(rules_page(base, version, "steps/veranstaltung/fields/end_date"))
    page.get_by_role("button", name="Prüfregel „end_after_start“ löschen").click()
    expect(page.locator(".messagelist")).to_contain_text("Die Prüfregel wurde gelöscht.")
    page.select_option("#id_rule-left", "end_date")
    page.select_option("#id_rule-op", "ge")
    page.check("input[name=rule-right_kind][value=field]")
    page.select_option("#id_rule-right_field", "start_date")
    page.fill("#id_rule-message_de", MESSAGE_DE)
    # Saved without English first: the error is shown at its input, the German text stays.
    page.get_by_role("button", name="Prüfregel speichern").click()
    expect(page.locator("#id_rule-message_en_error")).to_contain_text("Bitte füllen Sie")
    expect(page.locator("#id_rule-message_de")).to_have_value(MESSAGE_DE)
    no_violations(page, "rules page with an error")
    page.fill("#id_rule-message_en", MESSAGE_EN)
    page.check("input[name=rule-show_at][value=end_date]")
    page.get_by_role("button", name="Prüfregel speichern").click()
    expect(page.locator(".messagelist")).to_contain_text("wurde gespeichert")
    expect(page.locator(".portal-rules__list")).to_contain_text(
        "„Letzter Veranstaltungstag“ ist mindestens „Erster Veranstaltungstag“"
    )


def add_fixed_fee(page, base, version) -> None:
    page.goto(f"{base}/admin/forms_catalog/formversion/{version.pk}/designer/gebuehren/")
    expect(page).to_have_title(re.compile("^Gebühren"))
    no_violations(page, "fees page")
    page.fill("#id_line-label_de", "Bearbeitungsgebühr")
    page.fill("#id_line-label_en", "Processing fee")
    page.check("input[name=line-amount_kind][value=fixed]")
    page.fill("#id_line-amount", "25,00")
    page.get_by_role("button", name="Gebührenposition speichern").click()
    expect(page.locator(".messagelist")).to_contain_text("Gebührenposition")
    expect(page.locator("#fee-lines")).to_contain_text("25,00 €")
    expect(page.locator("#fee-preview")).to_contain_text("Bearbeitungsgebühr: 25,00 €")
    no_violations(page, "fees page with a line")


def publish_after_review(version: FormVersion, author, reviewer) -> None:
    form_version_submit_for_review(version=version, user=author.user, note="Pickers")
    version.refresh_from_db()
    form_version_approve(
        version=version, user=reviewer.user, checksum=version.checksum, note="geprüft"
    )
    form_version_publish(version=version, user=reviewer.user)


def test_condition_validation_and_fee_from_the_pickers_reach_the_citizen(
    portal,  # noqa: F811
    browser,
    page,
):
    base = portal["url"]
    author = make_staff("kz_regeln", "kompetenzzentrum", login=False)
    reviewer = make_staff("kz_regeln_pruefer", "kompetenzzentrum", login=False)
    draft = open_draft(author)
    context, editor_page = login(browser, base, author)
    response = editor_page.goto(rules_page(base, draft, "steps/veranstaltung"))
    csp = response.headers.get("content-security-policy", "")
    assert "style-src 'self'" in csp and "unsafe-inline" not in csp
    add_condition(editor_page, base, draft)
    replace_validation(editor_page, base, draft)
    add_fixed_fee(editor_page, base, draft)
    context.close()
    draft.refresh_from_db()
    step = draft.definition["steps"][1]
    music = next(f for f in step["fields"] if f["id"] == "amplified_music")
    assert music["visible_if"] == {"eq": [{"field": "event_kind"}, "konzert"]}
    assert [r["message"]["de"] for r in step["rules"]] == [MESSAGE_DE]
    assert draft.definition["fees"]["lines"][-1]["amount"] == 25
    publish_after_review(draft, author, reviewer)

    # The citizen: the question appears only for a concert; an end before the start
    # is refused with the editor's message.
    start_event_registration(page, portal, "de")
    question = page.locator(
        ".portal-field", has=page.locator("[name='veranstaltung-amplified_music']")
    )
    expect(question).to_be_hidden()
    page.check("[name='veranstaltung-event_kind'][value='konzert']")
    expect(question).to_be_visible()
    page.check("[name='veranstaltung-event_kind'][value='markt']")
    expect(question).to_be_hidden()
    details = {**event_details("80"), "event_kind": "konzert", "end_date": day(39)}
    fill_step(page, "veranstaltung", details)
    next_button(page).click()
    expect(page).to_have_title(re.compile("^Fehler:"))
    expect(page.locator("#id_veranstaltung-end_date-error")).to_contain_text(MESSAGE_DE)


def focused(page) -> str:
    return page.evaluate(
        "document.activeElement && (document.activeElement.id || document.activeElement.value)"
    )


def tab_to(page, target: str, limit: int = 400) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if focused(page) == target:
            return
    raise AssertionError(f"Tab never reached {target}")


def test_the_condition_picker_with_the_keyboard_only(portal, browser):  # noqa: F811
    base = portal["url"]
    editor = make_staff("kz_tastatur", "kompetenzzentrum", login=False)
    draft = open_draft(editor)
    context, page = login(browser, base, editor)
    page.goto(rules_page(base, draft, "steps/veranstaltung/fields/description"))
    expect(page.locator("#cond-heading")).to_contain_text("Ablauf und Besonderheiten")
    keyboard = page.keyboard
    # The field: typing selects an option of a focused select by its label.
    tab_to(page, "id_cond-0-field")
    keyboard.type("Art")
    expect(page.locator("#id_cond-0-field")).to_have_value("event_kind")
    # A second row; the page comes back with the values of the chosen field.
    tab_to(page, "cond-add")
    keyboard.press("Enter")
    expect(page.locator("#id_cond-1-field")).to_be_visible()
    expect(page.locator("#id_cond-0-value")).to_contain_text("Konzert")
    tab_to(page, "id_cond-0-value")
    keyboard.type("Konz")
    expect(page.locator("#id_cond-0-value")).to_have_value("konzert")
    tab_to(page, "id_cond-1-field")
    keyboard.type("Erwartete")
    expect(page.locator("#id_cond-1-field")).to_have_value("expected_visitors")
    tab_to(page, "cond-refresh")
    keyboard.press("Enter")
    expect(page.locator("#id_cond-1-op")).to_contain_text("mindestens")
    # "mindestens eine": the radio group moves with the arrow keys.
    tab_to(page, "and")
    keyboard.press("ArrowDown")
    expect(page.locator("input[name=cond-combine][value=or]")).to_be_checked()
    tab_to(page, "id_cond-1-op")
    keyboard.type("mind")
    expect(page.locator("#id_cond-1-op")).to_have_value("ge")
    tab_to(page, "id_cond-1-value")
    keyboard.type("500")
    tab_to(page, "cond-save")
    keyboard.press("Enter")
    expect(page.locator(".messagelist")).to_contain_text("Die Bedingung wurde gespeichert.")
    context.close()
    draft.refresh_from_db()
    description = draft.definition["steps"][1]["fields"][-1]
    assert description["visible_if"] == {
        "or": [
            {"eq": [{"field": "event_kind"}, "konzert"]},
            {"ge": [{"field": "expected_visitors"}, 500]},
        ]
    }


def test_the_condition_picker_without_javascript(live_server, browser):
    """Without JavaScript "Auswahl übernehmen" brings the values of a changed field."""
    editor = make_staff("kz_ohne_js", "kompetenzzentrum", login=False)
    service = ServiceFactory(slug="ohne-js", name_de="Ohne JavaScript")
    draft = form_version_create_draft(
        service=service, user=editor.user, definition=picker_definition()
    )
    context = browser.new_context(java_script_enabled=False, locale="de-DE")
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(live_server.url + "/admin/login/?next=/admin/")
    page.fill("#id_username", editor.user.username)
    page.fill("#id_password", editor.password)
    page.fill("#id_otp_token", current_totp(editor.user))
    page.click("input[type=submit]")
    page.wait_for_url(live_server.url + "/admin/")
    page.goto(rules_page(live_server.url, draft, "steps/weiteres/fields/note"))
    page.select_option("#id_cond-0-field", "start")
    # Nothing follows the change without JavaScript: the value is still a text input.
    expect(page.locator("#id_cond-0-value")).to_have_attribute("type", "text")
    page.get_by_role("button", name="Auswahl übernehmen").first.click()
    expect(page.locator("#id_cond-0-value")).to_have_attribute("type", "date")
    page.select_option("#id_cond-0-op", "ge")
    page.fill("#id_cond-0-value", "2026-06-01")
    page.get_by_role("button", name="Bedingung speichern").click()
    expect(page.locator(".messagelist")).to_contain_text("Die Bedingung wurde gespeichert.")
    # (axe-core needs JavaScript; the same page is checked with it above.)
    context.close()
    draft.refresh_from_db()
    assert draft.definition["steps"][1]["fields"][0]["visible_if"] == {
        "ge": [{"field": "start"}, {"date": "2026-06-01"}]
    }
