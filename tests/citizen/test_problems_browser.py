"""Issue 13's numbered problems that had no browser test yet, in real Chromium.

Problem 3: a change on the check page that hides an uploaded file removes it from
what is stored, the office's delivery and the receipt. Problem 9: a draft resumed
in another browser comes back in its language. Problem 11: the declaration is asked
once (on the check page, next to a link to the privacy page) and every page shows
its errors in the one error summary. Problem 12: the office's contact data on the
service and check pages, the operator's contacts on imprint and privacy page, the
municipality named as people say it.
"""

from __future__ import annotations

import datetime
import io
import re

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from forms_catalog.models import Service
from municipalities.models import Gemeinde
from municipalities.selectors import responsible_office
from submissions.models import Delivery, Submission
from tests.citizen.journey_driver import (
    SUBMIT,
    Typed,
    check_page_pairs,
    fill_step,
    make_file,
    open_service_from_start,
    submit_from_check_page,
    submit_step,
    walk,
)
from tests.support.worker import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EVENT = re.compile("Veranstaltung anmelden|Register an event")
RHOENBLICK = "16066093"


def in_days(offset: int) -> datetime.date:
    return datetime.date.today() + datetime.timedelta(days=offset)


ORGANISER = {
    "organiser": "Sportverein Roßdorf e. V.", "surname": "Keller", "given_names": "Jana",
    "street": "Schulstraße 4", "postcode": "98617", "city": "Rhönblick",
    "phone": "036946 31234", "email": "jana.keller@example.org",
}  # fmt: skip


def event(visitors: str) -> dict:
    return {
        "title": "Rhöner Bergfest", "event_kind": "fest", "start_date": in_days(50),
        "end_date": in_days(50), "location": "Sportplatz Roßdorf", "expected_visitors": visitors,
        "public_space": "no", "alcohol": "yes", "amplified_music": "yes",
    }  # fmt: skip


@pytest.mark.worker
def test_problem_3_security_concept_hidden_from_the_check_page_is_not_stored_nor_sent(
    live_portal, pipeline_worker, page, tmp_path
):
    """Lowering the visitors on the check page hides the uploaded security concept:
    it was still stored and in the receipt; now it is gone from both."""
    open_service_from_start(page, live_portal, "Rhönblick", re.compile("Rhönblick"), EVENT)
    walk(
        page,
        [
            ("veranstalter", ORGANISER),
            ("veranstaltung", event("2500")),
            ("unterlagen", {
                "site_plan": make_file(tmp_path, "Lageplan.pdf"),
                "security_concept": make_file(tmp_path, "Sicherheitskonzept.pdf"),
            }),
        ],
        Typed(),
    )  # fmt: skip
    expect(page.locator("main")).to_contain_text("Sicherheitskonzept.pdf")
    page.get_by_role("link", name=re.compile(r"Ändern\s*:\s*Erwartete Besucherzahl")).click()
    page.fill("[name='veranstaltung-expected_visitors']", "800")
    page.get_by_role("button", name="Speichern und zurück zur Übersicht").click()
    page.wait_for_url(re.compile("/pruefen/"))
    shown = check_page_pairs(page)
    assert ("Veranstaltung", "Erwartete Besucherzahl (gleichzeitig)", "800") in shown
    assert not any("Sicherheitskonzept" in label + value for _, label, value in shown), shown
    reference, _ = submit_from_check_page(page)

    submission = Submission.objects.get(reference=reference)
    wait_until(
        lambda: Submission.objects.filter(pk=submission.pk, delivered_at__isnull=False).exists(),
        timeout=120,  # PDFs under load on a shared machine; returns as soon as done
        message=pipeline_worker.log(),
    )
    submission.refresh_from_db()
    assert "security_concept" not in submission.answers
    assert [a.original_name for a in submission.attachments.all()] == ["Lageplan.pdf"]
    with submission.receipt_pdf.open("rb") as receipt:
        text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(receipt.read())).pages)
    assert "Lageplan.pdf" in text and "800" in text
    assert "Sicherheitskonzept" not in text
    with submission.office_pdf.open("rb") as office_copy:
        text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(office_copy.read())).pages)
    assert "Sicherheitskonzept" not in text
    assert all(d.status == Delivery.Status.DELIVERED for d in submission.deliveries.all())


def test_problem_9_a_draft_resumed_in_another_browser_comes_back_in_english(
    live_portal, page, browser
):
    page.goto(live_portal + "/")
    page.get_by_role("button", name="English").click()
    open_service_from_start(page, live_portal, "Rhönblick", re.compile("Rhönblick"), EVENT)
    fill_step(page, "veranstalter", ORGANISER)
    submit_step(page)
    page.get_by_role("button", name="Save and continue later").click()
    page.get_by_role("button", name=re.compile("link", re.IGNORECASE)).click()
    link = page.get_by_test_id("resume-link").inner_text()
    # Another device whose browser asks for German.
    other = browser.new_context(locale="de-DE", extra_http_headers={"Accept-Language": "de-DE"})
    try:
        resumed = other.new_page()
        resumed.goto(link)
        assert "/schritt/veranstaltung/" in resumed.url
        assert resumed.locator("html").get_attribute("lang") == "en"
        assert resumed.get_by_role("button", name=re.compile("^Continue$")).is_visible()
        expect(resumed.locator("main")).to_contain_text("Name of the event")
    finally:
        other.close()


def error_summary_shape(page) -> dict:
    """What makes the error summary one component: element, role, classes, focus."""
    return page.evaluate(
        """() => {
            const summary = document.getElementById('error-summary');
            return {
                count: document.querySelectorAll('#error-summary, .kern-alert--danger').length,
                tag: summary.tagName, role: summary.getAttribute('role'),
                classes: summary.className, focused: document.activeElement === summary,
                first: summary === document.querySelector('main .kern-alert, main [role=alert]'),
                links: summary.querySelectorAll('a[href^="#"]').length,
            };
        }"""
    )


def test_problem_11_declaration_once_with_privacy_link_and_one_error_summary(live_portal, page):
    open_service_from_start(page, live_portal, "Rhönblick", re.compile("Rhönblick"), EVENT)
    declaration = re.compile("Ich versichere|Erklärung")
    shapes = {}
    submit_step(page)
    shapes["step"] = error_summary_shape(page)
    for step, values in [("veranstalter", ORGANISER), ("veranstaltung", event("120"))]:
        assert not declaration.search(page.locator("main").inner_text()), step
        fill_step(page, step, values)
        submit_step(page)
    assert not declaration.search(page.locator("main").inner_text())
    submit_step(page)  # the documents step (nothing required) to the check page
    page.wait_for_url(re.compile("/pruefen/"))
    assert page.get_by_label(re.compile("Ich versichere")).count() == 1
    privacy = page.locator("#declaration-privacy a")
    assert privacy.get_attribute("target") == "_blank"
    with page.context.expect_page() as opened:
        privacy.click()
    opened.value.wait_for_load_state()
    assert opened.value.url == live_portal + "/datenschutz/"
    assert opened.value.get_by_role("heading", level=1).inner_text().startswith("Datenschutz")
    opened.value.close()
    page.get_by_role("button", name=SUBMIT).click()
    shapes["check"] = error_summary_shape(page)
    page.goto(live_portal + "/status/")
    page.locator("main button.kern-btn--primary").click()
    shapes["status"] = error_summary_shape(page)
    page.goto(live_portal + "/status/zugangscode/")
    page.locator("main button.kern-btn--primary").click()
    shapes["lost code"] = error_summary_shape(page)
    for where, shape in shapes.items():
        assert shape["count"] == 1, (where, shape)
        assert shape["tag"] == "DIV" and shape["role"] == "alert", (where, shape)
        assert shape["classes"] == shapes["step"]["classes"], (where, shape)
        assert shape["focused"] and shape["first"] and shape["links"] >= 1, (where, shape)


def test_problem_12_office_and_operator_contacts_and_the_name_people_use(
    live_portal, page, settings
):
    gemeinde = Gemeinde.objects.get(ags=RHOENBLICK)
    office = responsible_office(
        service=Service.objects.get(slug="veranstaltungsanmeldung"), gemeinde=gemeinde
    )
    office.street, office.postcode, office.city = "Schulstraße 1", "98617", "Rhönblick"
    office.phone, office.email = "036946 2300", "ordnungsamt@rhoenblick.example"
    office.opening_hours = "Di 9–12 und 13–18 Uhr\nDo 9–12 Uhr"
    office.save()
    settings.PORTAL_OPERATOR_NAME = "Thüringer Landesverwaltungsamt"
    settings.PORTAL_OPERATOR_ADDRESS = "Jorge-Semprún-Platz 4\n99423 Weimar"
    settings.PORTAL_OPERATOR_EMAIL = "portal@tlvwa.example"
    settings.PORTAL_OPERATOR_PHONE = "+49 361 57 331 0"
    settings.PORTAL_DPO_EMAIL = "datenschutz@tlvwa.example"

    page.goto(live_portal + "/")
    page.get_by_label(re.compile("Gemeinde oder Postleitzahl")).fill("Rhönblick")
    page.get_by_role("button", name=re.compile("Gemeinde suchen")).click()
    expect(page.get_by_role("link", name="Gemeinde Rhönblick", exact=True)).to_be_visible()
    page.get_by_role("link", name="Gemeinde Rhönblick", exact=True).click()
    page.get_by_role("link", name=EVENT).click()
    contact = page.locator("address.portal-office").inner_text()
    for expected in ("Schulstraße 1", "98617 Rhönblick", "036946 2300",
                     "ordnungsamt@rhoenblick.example", "Do 9–12 Uhr"):  # fmt: skip
        assert expected in contact, (expected, contact)
    assert page.locator("a[href='mailto:ordnungsamt@rhoenblick.example']").count() >= 1
    for path in ("/impressum/", "/datenschutz/"):
        page.goto(live_portal + path)
        text = page.locator("main").inner_text()
        for expected in ("Thüringer Landesverwaltungsamt", "99423 Weimar", "+49 361 57 331 0"):
            assert expected in text, (path, expected)
        assert "wird ergänzt" not in text, path
    assert page.locator("a[href='mailto:datenschutz@tlvwa.example']").count() == 1
    icon = page.locator("link[rel='icon']").first.get_attribute("href")
    assert page.request.get(live_portal + icon).ok


def test_problem_6_german_numbers_are_understood_and_only_real_ambiguity_is_refused(
    live_portal, page, tmp_path
):
    """ "1.500" visitors are fifteen hundred (so the security concept is required);
    "1,5" people is refused with a message naming the field, the rest kept."""
    open_service_from_start(page, live_portal, "Rhönblick", re.compile("Rhönblick"), EVENT)
    walk(page, [("veranstalter", ORGANISER)], Typed())
    fill_step(page, "veranstaltung", event("1,5"))
    submit_step(page)
    summary = page.locator("#error-summary").inner_text()
    assert "Erwartete Besucherzahl" in summary, summary
    assert page.input_value("[name='veranstaltung-location']") == "Sportplatz Roßdorf"
    assert page.input_value("[name='veranstaltung-expected_visitors']") == "1,5"
    fill_step(page, "veranstaltung", {"expected_visitors": "1.500"})
    submit_step(page)
    page.wait_for_url(re.compile("/schritt/unterlagen/"))
    submit_step(page)  # the security concept is now required
    expect(page.locator("#error-summary")).to_contain_text("Sicherheitskonzept")
    fill_step(page, "unterlagen", {"security_concept": make_file(tmp_path, "Konzept.pdf")})
    submit_step(page)
    page.wait_for_url(re.compile("/pruefen/"))
    shown = check_page_pairs(page)
    assert ("Veranstaltung", "Erwartete Besucherzahl (gleichzeitig)", "1.500") in shown, shown
