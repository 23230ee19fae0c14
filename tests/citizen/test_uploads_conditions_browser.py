"""Issue 13, problems 2, 8 and 10 in a real browser (system Chromium), checked by axe-core.

- 2: a refused file is reported at its own field (never dropped without a word,
  never "please upload a file" when it was too big), while the file accepted in
  another field of the same page is kept.
- 8: every file field states its formats and size limit before upload, in
  German number format, and the server refuses by exactly that limit.
- 10: with JavaScript a same-page conditional question is hidden until its
  answer applies; without JavaScript it is shown with a hint naming the question.
"""

from __future__ import annotations

import re

import pytest
from django.template import engines
from django.templatetags.static import static
from django.test import RequestFactory
from django.utils import translation
from playwright.sync_api import expect

from forms_catalog.compiler import CompiledForm
from forms_catalog.fields.file import file_limits, limits_text
from submissions.models import Attachment, Submission
from tests.citizen.citizen_support import PDF
from tests.citizen.test_citizen_browser import (  # noqa: F401 - portal is a fixture
    assert_accessible,
    day,
    fill_step,
    next_button,
    open_service,
    portal,
)
from tests.forms_catalog.helpers import CATALOGUE, TODAY, catalogue_definition
from tests.forms_catalog.test_templates_browser import PAGE

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
TEXTS = {
    "de": {
        "error_title": "Fehler:",
        "disguised": "passt nicht zur Dateiendung",
        "too_big": "ist zu groß",
        "please_upload": "Bitte laden Sie",
        "uploaded": "Bereits hochgeladen",
        "limits": "Erlaubte Formate: PDF. Höchstens 10 MB pro Datei.",
        "hint": "Nur ausfüllen, wenn es nach Ihrer Antwort bei „Findet die Veranstaltung",
        "check": "Prüfen Sie Ihre Angaben",
    },
    "en": {
        "error_title": "Error:",
        "disguised": "does not match its extension",
        "too_big": "is too large",
        "please_upload": "Please upload",
        "uploaded": "Already uploaded",
        "limits": "Allowed formats: PDF. At most 10 MB per file.",
        "hint": "Only fill in if it applies according to your answer to “",
        "check": "Check your answers",
    },
}


def start_event_registration(page, portal, language: str) -> None:  # noqa: F811
    if language == "en":
        page.goto(portal["url"] + "/")
        page.get_by_role("button", name="English").click()
    open_service(
        page,
        portal,
        "Rhönbl",
        re.compile(r"^(Gemeinde|Municipality of) Rhönblick$"),
        re.compile("Veranstaltung anmelden|Register an event"),
        axe=False,
    )
    fill_step(page, "veranstalter", ORGANISER)
    next_button(page).click()
    assert "/schritt/veranstaltung/" in page.url, page.locator("main").inner_text()


def event_details(visitors: str) -> dict:
    return {
        "title": "Dorffest",
        "event_kind": "fest",
        "start_date": day(40),
        "end_date": day(41),
        "location": "Dorfplatz",
        "expected_visitors": visitors,
        "public_space": "no",
        "alcohol": "no",
        "amplified_music": "no",
    }


def to_documents_step(page, portal, language: str) -> None:  # noqa: F811
    start_event_registration(page, portal, language)
    fill_step(page, "veranstaltung", event_details("1500"))
    next_button(page).click()
    assert "/schritt/unterlagen/" in page.url, page.locator("main").inner_text()


def file_specs(compiled: CompiledForm):
    """(step id, spec) of every file field of a compiled form."""
    for step in compiled.steps:
        for spec in step.top_fields():
            if spec.type == "file":
                yield step.id, spec


def without_conditions(definition: dict) -> dict:
    """The definition with every `visible_if` removed, so each file field is rendered
    (its limits do not depend on whether an earlier answer shows it)."""

    def strip(items: list) -> None:
        for item in items:
            item.pop("visible_if", None)
            strip(item.get("fields", []))

    for step in definition["steps"]:
        step.pop("visible_if", None)
        strip(step.get("fields", step.get("items", [])))
    return definition


def field_error(page, field: str):
    return page.locator(f"#id_unterlagen-{field}-error")


@pytest.mark.parametrize("language", ["de", "en"])
def test_disguised_file_next_to_a_valid_one_is_reported_at_its_field_not_dropped(
    portal,  # noqa: F811
    page,
    language,
):
    """Regression: an .exe renamed .pdf in the optional site plan vanished without a
    word when the safety concept on the same page was accepted."""
    texts = TEXTS[language]
    to_documents_step(page, portal, language)
    page.set_input_files("[name='unterlagen-site_plan']", str(portal["disguised"]))
    page.set_input_files("[name='unterlagen-security_concept']", str(portal["pdf"]))
    next_button(page).click()
    assert "/schritt/unterlagen/" in page.url
    assert page.title().startswith(texts["error_title"])
    error = field_error(page, "site_plan")
    assert error.is_visible()
    assert "rechnung.pdf" in error.inner_text() and texts["disguised"] in error.inner_text()
    assert field_error(page, "security_concept").count() == 0
    # The valid file of the other field is kept and listed; the summary links to the field.
    concept = page.locator(".portal-field", has=page.locator("#id_unterlagen-security_concept"))
    assert texts["uploaded"] in concept.inner_text() and "nachweis.pdf" in concept.inner_text()
    links = page.locator("#error-summary a")
    assert [links.nth(i).get_attribute("href") for i in range(links.count())] == [
        "#id_unterlagen-site_plan"
    ]
    assert page.get_attribute("#id_unterlagen-site_plan", "aria-invalid") == "true"
    assert_accessible(page, f"upload step with a refused file ({language})")
    assert Attachment.objects.filter(field_path="security_concept").count() == 1
    assert not Attachment.objects.filter(field_path="site_plan").exists()
    # The site plan is optional: going on without it keeps the safety concept.
    next_button(page).click()
    assert texts["check"] in page.locator("h1").inner_text()
    expect(page.locator("main")).to_contain_text("nachweis.pdf")


@pytest.mark.parametrize("language", ["de", "en"])
def test_too_big_file_gets_its_size_message_at_its_field_not_please_upload(
    portal,  # noqa: F811
    page,
    tmp_path,
    language,
):
    """Regression: a too-big file was reported only in the summary, while its field
    (and others) said "Bitte laden Sie eine Datei hoch."."""
    texts = TEXTS[language]
    big = tmp_path / "sicherheitskonzept.pdf"
    big.write_bytes(PDF + b"\0" * (10 * 1024 * 1024 + 1 - len(PDF)))
    to_documents_step(page, portal, language)
    # Announced before anything is uploaded, at the field.
    limits = page.locator("#id_unterlagen-security_concept-limits")
    assert limits.inner_text() == texts["limits"]
    assert "id_unterlagen-security_concept-limits" in page.get_attribute(
        "#id_unterlagen-security_concept", "aria-describedby"
    )
    page.set_input_files("[name='unterlagen-site_plan']", str(portal["pdf"]))
    page.set_input_files("[name='unterlagen-security_concept']", str(big))
    next_button(page).click()
    # The click starts a navigation: wait for the new page's title.
    expect(page).to_have_title(re.compile("^" + re.escape(texts["error_title"])))
    error = field_error(page, "security_concept").inner_text()
    assert texts["too_big"] in error and "sicherheitskonzept.pdf" in error
    assert "10 MB" in error and "10,0" not in error and "10.0" not in error
    assert texts["please_upload"] not in page.locator("main").inner_text()
    summary = page.locator("#error-summary").inner_text()
    assert texts["too_big"] in summary
    site_plan = page.locator(".portal-field", has=page.locator("#id_unterlagen-site_plan"))
    assert "nachweis.pdf" in site_plan.inner_text()
    assert_accessible(page, f"upload step with a too-big file ({language})")


@pytest.mark.parametrize("language", ["de", "en"])
def test_limits_are_announced_at_every_file_field_of_every_service(live_server, page, language):
    """Every file field of every catalogue form states formats and size before upload,
    in the page's number format, from the same limits the server checks by."""
    current = {"html": ""}
    page.route(
        f"{live_server.url}/__step__",
        lambda route: route.fulfill(status=200, content_type="text/html", body=current["html"]),
    )
    template = engines["django"].from_string(PAGE)
    request = RequestFactory().get("/")
    checked = 0
    for path in sorted(CATALOGUE.glob("*.json")):
        compiled = CompiledForm(without_conditions(catalogue_definition(path.stem)))
        for step, spec in file_specs(compiled):
            form = compiled.form_class(step)(
                prefix=step, answers={}, language=language, today=TODAY
            )
            current["html"] = template.render({"form": form, "title": step}, request)
            page.goto(f"{live_server.url}/__step__")
            field = page.locator(f"#id_{step}-{spec.id}")
            assert field.count() == 1, f"{path.stem}/{step}/{spec.id} not rendered"
            limits = file_limits(spec)
            hint = page.locator(f"#id_{step}-{spec.id}-limits")
            assert hint.is_visible(), f"{path.stem}/{step}/{spec.id} announces no limits"
            assert f"id_{step}-{spec.id}-limits" in field.get_attribute("aria-describedby")
            with_language = limits_text_in(language, limits)
            assert hint.inner_text() == with_language, (path.stem, spec.id)
            assert re.search(r"\d[.,]0 MB", hint.inner_text()) is None
            if language == "de":
                assert re.search(r"\d\.\d+ MB", hint.inner_text()) is None
            assert int(field.get_attribute("data-portal-max-bytes")) == limits.max_bytes
            accept = field.get_attribute("accept").split(",")
            assert {f".{e}" for e in limits.extensions} <= set(accept)
            checked += 1
    assert checked >= 20


def limits_text_in(language: str, limits) -> str:
    with translation.override(language):
        return limits_text(limits)


@pytest.mark.parametrize("language", ["de", "en"])
def test_same_page_condition_is_hidden_until_its_answer_applies_with_javascript(
    portal,  # noqa: F811
    page,
    language,
):
    start_event_registration(page, portal, language)
    question = page.locator(
        ".portal-field", has=page.locator("[name='veranstaltung-road_closure']")
    )
    assert question.get_attribute("hidden") is not None
    assert question.is_hidden()
    assert TEXTS[language]["hint"] not in page.locator("main").inner_text()
    assert_accessible(page, f"step with a hidden conditional question ({language})")
    page.check("[name='veranstaltung-public_space'][value='yes']")
    assert question.is_visible()
    assert question.get_attribute("hidden") is None
    # Focus stays on the answer that revealed the question.
    assert page.evaluate("document.activeElement.name") == "veranstaltung-public_space"
    controls = page.get_attribute(
        "[name='veranstaltung-public_space'][value='yes']", "aria-controls"
    )
    assert question.get_attribute("id") in controls.split()
    assert_accessible(page, f"step with a revealed conditional question ({language})")
    page.check("[name='veranstaltung-public_space'][value='no']")
    assert question.is_hidden()
    page.check("[name='veranstaltung-public_space'][value='yes']")
    # Shown again after a failed submit (its own answer missing): the error is in sight.
    fill_step(page, "veranstaltung", {**event_details("80"), "public_space": "yes"})
    next_button(page).click()
    # The click starts a navigation: wait for the new page's title.
    expect(page).to_have_title(re.compile("^" + re.escape(TEXTS[language]["error_title"])))
    assert question.is_visible()
    assert page.locator("#id_veranstaltung-road_closure-error").is_visible()
    assert_accessible(page, f"step with an error at a conditional question ({language})")
    page.check("[name='veranstaltung-road_closure'][value='no']")
    next_button(page).click()
    assert "/schritt/unterlagen/" in page.url


@pytest.mark.parametrize("language", ["de", "en"])
def test_same_page_condition_is_shown_with_a_hint_without_javascript(
    portal,  # noqa: F811
    browser,
    language,
):
    context = browser.new_context(java_script_enabled=False, locale="de-DE")
    try:
        page = context.new_page()
        start_event_registration(page, portal, language)
        question = page.locator(
            ".portal-field", has=page.locator("[name='veranstaltung-road_closure']")
        )
        assert question.is_visible()
        assert TEXTS[language]["hint"] in question.inner_text()
        html = page.content()
    finally:
        context.close()
    # axe needs script: check the very page the browser got without JavaScript.
    checker = browser.new_context(locale="de-DE")
    try:
        view = checker.new_page()
        view.route(
            portal["url"] + "/__nojs__",
            lambda route: route.fulfill(
                status=200,
                content_type="text/html",
                # Under its own (maybe hashed) name, as the page links it.
                body=html.replace(static("portal/conditions.js"), "/conditions-off.js"),
            ),
        )
        view.goto(portal["url"] + "/__nojs__")
        assert view.locator("[name='veranstaltung-road_closure']").first.is_visible()
        assert_accessible(view, f"step with a conditional question without JavaScript ({language})")
    finally:
        checker.close()


def test_journey_without_javascript_with_a_condition_and_uploads(portal, browser):  # noqa: F811
    """No script: the same-page condition is answered, a disguised file is refused at its
    field, the valid one kept, and the application reaches the office with it."""
    context = browser.new_context(java_script_enabled=False, locale="de-DE")
    try:
        page = context.new_page()
        start_event_registration(page, portal, "de")
        fill_step(
            page,
            "veranstaltung",
            {**event_details("1.500"), "public_space": "yes", "road_closure": "yes"},
        )
        next_button(page).click()
        assert "/schritt/unterlagen/" in page.url, page.locator("main").inner_text()
        page.set_input_files("[name='unterlagen-site_plan']", str(portal["disguised"]))
        page.set_input_files("[name='unterlagen-security_concept']", str(portal["pdf"]))
        next_button(page).click()
        assert "passt nicht zur Dateiendung" in field_error(page, "site_plan").inner_text()
        page.set_input_files("[name='unterlagen-site_plan']", str(portal["pdf"]))
        next_button(page).click()
        expect(page.locator("h1")).to_contain_text("Prüfen Sie Ihre Angaben")
        page.get_by_label(re.compile("Ich versichere, dass meine Angaben")).last.check()
        page.get_by_role("button", name="Antrag verbindlich absenden").click()
        expect(page.locator("main")).to_contain_text("Ihr Antrag ist eingegangen")
    finally:
        context.close()
    submission = Submission.objects.get()
    assert submission.answers["road_closure"] is True
    assert submission.answers["expected_visitors"] == 1500
    assert sorted(a.field_path for a in submission.attachments.all()) == [
        "security_concept",
        "site_plan",
    ]


@pytest.mark.parametrize(
    ("language", "heading"), [("de", "Es gibt ein Problem"), ("en", "There is a problem")]
)
def test_search_page_errors_use_the_one_error_summary(portal, page, language, heading):  # noqa: F811
    page.goto(portal["url"] + "/")
    if language == "en":
        page.get_by_role("button", name="English").click()
    page.goto(portal["url"] + "/gemeinden/?q=" + "x" * 500)
    summary = page.locator("#error-summary.portal-error-summary")
    assert summary.is_visible()
    assert heading in summary.inner_text()
    assert page.title().startswith("Fehler:" if language == "de" else "Error:")
    # Focused like on every other page, and its link reaches the search field.
    assert page.evaluate("document.activeElement.id") == "error-summary"
    summary.locator("a").first.click()
    assert page.evaluate("document.activeElement.id") == "id_q"
    assert_accessible(page, f"search page with an error ({language})")


@pytest.mark.parametrize(
    ("language", "words"), [("de", "ist zu groß (31 MB)"), ("en", "is too large (31 MB)")]
)
def test_a_file_larger_than_a_request_is_stopped_at_its_field_before_anything_is_lost(
    portal,  # noqa: F811
    page,
    tmp_path,
    language,
    words,
):
    """Without this the server refuses the request unread (413) and the page is gone."""
    huge = tmp_path / "konzept.pdf"
    with huge.open("wb") as out:
        out.write(PDF)
        out.truncate(31 * 1024 * 1024)
    to_documents_step(page, portal, language)
    page.set_input_files("[name='unterlagen-site_plan']", str(portal["pdf"]))
    page.set_input_files("[name='unterlagen-security_concept']", str(huge))
    url = page.url
    next_button(page).click()
    message = page.locator("#id_unterlagen-security_concept-size-error")
    expect(message).to_be_visible()
    assert words in message.inner_text() and "10 MB" in message.inner_text()
    assert page.url == url
    assert page.evaluate("document.activeElement.id") == "id_unterlagen-security_concept"
    field = page.locator("#id_unterlagen-security_concept")
    assert "id_unterlagen-security_concept-size-error" in field.get_attribute("aria-describedby")
    assert field.get_attribute("aria-invalid") == "true"
    assert_accessible(page, f"upload step with a file over the request limit ({language})")
    # Choosing a fitting file sends the page; the server keeps both.
    page.set_input_files("[name='unterlagen-security_concept']", str(portal["pdf"]))
    next_button(page).click()
    assert "/pruefen/" in page.url, page.locator("main").inner_text()
    assert Attachment.objects.count() == 2
