"""Issue 13 (problems 7, 9 and 12) in the browser: fees that tell the truth, the same on the
service page and the check page, in German and English; the office's contact on the service
page and the confirmation page. axe-core finds no violation on any of these pages."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from forms_catalog.models import Service
from municipalities.model_fees import LocalFeeParameter
from municipalities.models import Gemeinde
from municipalities.selectors import responsible_office
from tests.citizen.test_citizen_browser import (  # noqa: F401 - portal is a fixture
    HALTER,
    assert_accessible,
    gewerbe_steps,
    hund_steps,
    portal,
    walk,
)
from tests.citizen.test_english_browser import assert_english

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ERFURT_RATES = {
    "rate_first": "120.00",
    "rate_second": "180.00",
    "rate_further": "240.00",
    "rate_dangerous": "800.00",
}
CONTACT = {
    "street": "Fischmarkt 1",
    "postcode": "99084",
    "city": "Erfurt",
    "phone": "0361 655-0",
    "email": "buergerservice@erfurt.example",
    "website": "https://www.erfurt.example/buergerservice",
    "opening_hours": "Mo, Di, Do 9–18 Uhr\nFr 9–12 Uhr",
}


def gemeinde(name: str) -> Gemeinde:
    return Gemeinde.objects.current().get(name=name)


@pytest.fixture
def erfurt(portal):  # noqa: F811
    """Erfurt has set its dog tax; its offices publish their contact data."""
    erfurt = gemeinde("Erfurt, Stadt")
    dog = Service.objects.get(slug="hundeanmeldung")
    for key, value in ERFURT_RATES.items():
        LocalFeeParameter.objects.create(service=dog, gemeinde=erfurt, key=key, value=value)
    for slug in ("hundeanmeldung", "gewerbe-anmeldung", "reisepass"):
        office = responsible_office(service=Service.objects.get(slug=slug), gemeinde=erfurt)
        for name, value in CONTACT.items():
            setattr(office, name, value)
        office.save()
    return erfurt


def service_url(portal, gemeinde: Gemeinde, slug: str) -> str:  # noqa: F811
    return f"{portal['url']}/gemeinden/{gemeinde.ags}/leistungen/{slug}/"


def fee_section(page) -> str:
    return page.locator("section[aria-labelledby='h-fee']").inner_text()


def assert_office_contact(page) -> None:
    contact = page.get_by_test_id("office-contact").inner_text()
    for value in ("Fischmarkt 1", "99084 Erfurt", "0361 655-0", "Fr 9–12 Uhr"):
        assert value in contact, contact
    assert page.get_by_role("link", name="buergerservice@erfurt.example").count() == 1
    web = page.get_by_role("link", name="https://www.erfurt.example/buergerservice")
    assert web.get_attribute("href") == "https://www.erfurt.example/buergerservice"


def test_dog_tax_and_passport_fees_on_the_service_pages(portal, erfurt, page):  # noqa: F811
    page.goto(service_url(portal, erfurt, "hundeanmeldung"))
    assert page.get_by_test_id("fee-kind").inner_text() == "Steuer"
    assert page.get_by_test_id("fee-period").inner_text() == "jährlich"
    expect(page.get_by_test_id("fee-payment")).to_contain_text("Bescheid")
    own = page.get_by_test_id("fee-own-rates").inner_text()
    assert "Beträge von Stadt Erfurt" in own
    assert "120,00 €" in own and "800,00 €" in own
    assert "50,00" not in fee_section(page)  # the catalogue's example is not Erfurt's rate
    assert page.get_by_test_id("fee-example-rates").count() == 0
    assert "Sätze in" not in fee_section(page)
    assert_office_contact(page)
    assert_accessible(page, "dog tax service page in Erfurt")

    rhoenblick = gemeinde("Rhönblick")
    page.goto(service_url(portal, rhoenblick, "hundeanmeldung"))
    section = fee_section(page)
    assert page.get_by_test_id("fee-kind").inner_text() == "Steuer"
    assert page.get_by_test_id("fee-own-rates").count() == 0
    assert "Den Betrag legt Gemeinde Rhönblick selbst fest." in section
    examples = page.get_by_test_id("fee-example-rates").inner_text()
    assert "Nur Beispiele, nicht die Beträge von Gemeinde Rhönblick" in examples
    assert "z. B. 50,00 €" in examples
    assert "Erfurt" not in section and "120,00" not in section
    assert_accessible(page, "dog tax service page in Rhönblick")

    page.goto(service_url(portal, erfurt, "reisepass"))
    assert page.get_by_test_id("fee-payment").inner_text() == "Bezahlt wird beim Termin vor Ort."
    assert page.get_by_test_id("fee-period").inner_text() == "einmalig"
    fixed = page.get_by_test_id("fee-fixed-rates").inner_text()
    assert "Beträge nach Gesetz oder Verordnung" in fixed and "70,00 €" in fixed
    assert_office_contact(page)
    assert_accessible(page, "passport service page")


def test_gewerbe_check_page_says_what_the_service_page_says(portal, erfurt, page):  # noqa: F811
    page.goto(service_url(portal, erfurt, "gewerbe-anmeldung"))
    on_service_page = fee_section(page)
    assert "Den Betrag legt Stadt Erfurt selbst fest." in on_service_page
    assert "Gera" not in on_service_page and "keine Gebühren" not in on_service_page
    assert_office_contact(page)
    page.get_by_role("button", name="Antrag starten").click()
    walk(page, gewerbe_steps(portal["pdf"]))
    assert "/pruefen/" in page.url
    assert fee_section(page) == on_service_page
    assert_accessible(page, "Gewerbe check page")
    page.get_by_label(re.compile("Ich versichere, dass meine Angaben")).last.check()
    page.get_by_role("button", name="Antrag verbindlich absenden").click()
    expect(page.get_by_test_id("reference")).to_be_visible()
    assert_office_contact(page)
    assert_accessible(page, "Gewerbe confirmation page")


def test_english_fee_lines_and_office_contact(portal, erfurt, page):  # noqa: F811
    page.goto(portal["url"] + "/")
    page.get_by_role("button", name="English").click()
    page.goto(service_url(portal, gemeinde("Rhönblick"), "hundeanmeldung"))
    assert page.get_by_test_id("fee-kind").inner_text() == "Tax"
    assert page.get_by_test_id("fee-period").inner_text() == "every year"
    section = fee_section(page)
    assert "Municipality of Rhönblick sets the amount itself." in section
    assert "Examples only, not the amounts of Municipality of Rhönblick" in section
    assert "e.g. €50.00" in section
    assert_english(page, "dog tax service page (en)")
    assert_accessible(page, "dog tax service page in Rhönblick (en)")

    page.goto(service_url(portal, erfurt, "hundeanmeldung"))
    assert "Amounts set by City of Erfurt" in fee_section(page)
    assert_office_contact(page)
    assert_english(page, "Erfurt dog tax service page (en)")
    assert_accessible(page, "dog tax service page in Erfurt (en)")
    page.get_by_role("button", name="Start application").click()
    walk(page, [("halter", {**HALTER, "postcode": "99084", "city": "Erfurt"})])
    walk(page, hund_steps(portal["pdf"]))
    assert "/pruefen/" in page.url
    calculation = page.get_by_test_id("fee-calculation").inner_text()
    assert "Dog 1 (Bello)" in calculation and "€120.00" in calculation
    assert "Total per year" in calculation
    assert_english(page, "check page (en)")
    assert_accessible(page, "dog tax check page (en)")
    page.get_by_label(re.compile("I confirm")).last.check()
    page.get_by_role("button", name=re.compile("Submit")).click()
    expect(page.get_by_test_id("reference")).to_be_visible()
    assert_office_contact(page)
    assert_english(page, "confirmation page (en)")
    assert_accessible(page, "confirmation page (en)")


def test_rates_configured_for_erfurt_never_show_for_another_municipality(
    portal,  # noqa: F811
    erfurt,
    page,
):
    """Regression: the catalogue's example rates were captioned "Sätze in <Gemeinde>" everywhere."""
    jena = gemeinde("Jena, Stadt")
    dog = Service.objects.get(slug="hundeanmeldung")
    assert LocalFeeParameter.objects.filter(service=dog, gemeinde=jena).count() == 0
    page.goto(service_url(portal, jena, "hundeanmeldung"))
    section = fee_section(page)
    assert page.get_by_test_id("fee-own-rates").count() == 0
    assert "Sätze in" not in section and "Erfurt" not in section
    assert "Nur Beispiele, nicht die Beträge von Stadt Jena" in section
    assert "120,00" not in section
