"""All errors of a page at once, in one summary whose links reach the fields (issue 13, problem 5).

Real Chromium, checked by axe-core, in German and in English.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.citizen.test_citizen_browser import (
    assert_accessible,
    day,
    fill_step,
    next_button,
    open_service,
    portal,  # noqa: F401 - fixture
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ORGANISER = {
    "organiser": "Heimatverein Wölfershausen e. V.",
    "surname": "Schneider",
    "given_names": "Anna",
    "street": "Anger 12",
    "postcode": "98634",
    "city": "Rhönblick",
    "phone": "036946 1234",
    "email": "anna.schneider@example.de",
}


@pytest.mark.parametrize(
    ("language", "ambiguous", "heading", "hint"),
    [
        ("de", "ist nicht klar, ob der Punkt", "Es gibt ein Problem", "z. B. 27.3.2007"),
        ("en", "it is not clear whether the comma", "There is a problem", "For example, 27 3 2007"),
    ],
)
def test_field_and_cross_field_errors_come_in_one_round(
    portal,  # noqa: F811
    page,
    language,
    ambiguous,
    heading,
    hint,
):
    if language == "en":
        page.goto(portal["url"] + "/")
        page.get_by_role("button", name="English").click()
    service = re.compile("Veranstaltung anmelden|Register an event")
    open_service(
        page,
        portal,
        "Rhönbl",
        re.compile(r"^(Gemeinde|Municipality of) Rhönblick$"),
        service,
        axe=False,
    )
    fill_step(page, "veranstalter", ORGANISER)
    next_button(page).click()
    # The title is missing, the visitor number is ambiguous in the page's
    # language, and the last day lies before the first: all three at once.
    fill_step(
        page,
        "veranstaltung",
        {
            "title": "",
            "event_kind": "fest",
            "start_date": day(40),
            "end_date": day(38),
            "location": "Dorfplatz <script>alert(1)</script>",
            "expected_visitors": "1.45" if language == "de" else "1,45",
            "public_space": "no",
            "alcohol": "no",
            "amplified_music": "no",
        },
    )
    next_button(page).click()
    summary = page.locator("#error-summary")
    expect(summary).to_be_visible()
    assert heading in summary.inner_text()
    links = summary.locator("a")
    targets = [links.nth(i).get_attribute("href") for i in range(links.count())]
    assert targets == [
        "#id_veranstaltung-title",
        "#id_veranstaltung-end_date_day",
        "#id_veranstaltung-expected_visitors",
    ], targets
    text = summary.inner_text()
    assert ambiguous in text
    assert hint in page.content()
    assert page.title().startswith("Fehler:" if language == "de" else "Error:")
    assert_accessible(page, f"step with field and cross-field errors ({language})")
    links.nth(1).click()
    assert page.evaluate("document.activeElement.id") == "id_veranstaltung-end_date_day"
