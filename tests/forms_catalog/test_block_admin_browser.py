"""The block library pages in a real browser under the strict CSP: list, detail with where
used, field editor (an added field saved by keyboard), in review; axe-core finds no WCAG 2.1 AA
violation on any of them."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from forms_catalog.block_services import block_catalogue_load
from forms_catalog.models import Block, BlockVersion
from tests.backoffice.backoffice_support import make_staff
from tests.forms_catalog.test_blocks import form_with_blocks
from tests.forms_catalog.test_review_browser import login, no_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_block_pages_are_accessible_and_a_field_is_added_by_keyboard(live_server, browser):
    editor = make_staff("kz_bausteine", "kompetenzzentrum", login=False)
    block_catalogue_load()
    person = Block.objects.get(slug="person")
    form_with_blocks({"person": person}, slug="antrag-baustein", blocks=(("person", "halter"),))
    context, page = login(browser, live_server.url, editor)
    base = f"{live_server.url}/admin/forms_catalog/block/"

    page.goto(base)
    expect(page.locator("#result_list")).to_contain_text("Anschrift in Deutschland")
    no_violations(page, "block list")

    page.goto(f"{base}{person.pk}/change/")
    expect(page.locator("#block-usages")).to_contain_text("halter")
    no_violations(page, "block detail")

    page.get_by_role("button", name="Neue Version anlegen").click()
    expect(page.locator("#open-status")).to_contain_text("Version 2")
    page.get_by_role("link", name="Felder des Entwurfs bearbeiten").click()
    expect(page).to_have_title(re.compile("Felder bearbeiten"))
    no_violations(page, "block field editor")

    # The empty fieldset at the end adds a field: filled and saved with the keyboard only.
    page.locator("#id_fields-3-id").focus()
    page.keyboard.type("geburtsort")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.type("Geburtsort")
    page.keyboard.press("Tab")
    page.keyboard.type("Place of birth")
    page.locator("#id_fields-3-required").focus()
    page.keyboard.press("Space")
    page.locator("input[type=submit][value=Speichern]").focus()
    page.keyboard.press("Enter")
    expect(page.locator("ul.messagelist")).to_contain_text("gespeichert")
    draft = BlockVersion.objects.get(block=person, status="draft")
    assert draft.content["fields"][-1] == {
        "id": "geburtsort",
        "type": "text",
        "label": {"de": "Geburtsort", "en": "Place of birth"},
        "required": True,
    }

    # A refused save keeps what was typed and names the problem in German.
    page.locator("#id_fields-0-id").fill("Name!")
    page.locator("input[type=submit][value=Speichern]").click()
    expect(page.locator(".errornote")).to_be_visible()
    expect(page.locator("#id_fields-0-id")).to_have_value("Name!")
    no_violations(page, "block field editor with errors")

    page.goto(f"{base}{person.pk}/change/")
    page.locator("#id_submit-note").fill("Geburtsort ergänzt")
    page.get_by_role("button", name="Zur Prüfung geben").click()
    expect(page.locator("#open-status")).to_contain_text("zur Prüfung")
    no_violations(page, "block in review")
    context.close()
