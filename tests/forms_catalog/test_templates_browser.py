"""Every step of every catalogue form, empty and with errors, in a real browser: no
WCAG 2.1 AA violation found by axe-core (labels, fieldsets, contrast, ARIA)."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.template import engines
from django.test import RequestFactory

from forms_catalog.compiler import CompiledForm
from tests.forms_catalog.helpers import CATALOGUE, TODAY, catalogue_definition

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WCAG_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}

PAGE = """{% extends "base.html" %}
{% block title %}{{ title }}{% endblock %}
{% block content %}
<h1 class="kern-heading-large">{{ title }}</h1>
{% include "forms_catalog/error_summary.html" %}
<form method="post" enctype="{{ enctype|default:'multipart/form-data' }}" novalidate>
  {% csrf_token %}
  {% include "forms_catalog/step_fields.html" %}
  <button class="kern-btn kern-btn--primary" type="submit">
    <span class="kern-label">Weiter</span>
  </button>
</form>
{% endblock %}"""


def step_pages(language: str):
    """(name, html) for each step of each catalogue form: submitted empty (all errors
    shown), and in German also unsubmitted."""
    template = engines["django"].from_string(PAGE)
    request = RequestFactory().get("/")
    for path in sorted(CATALOGUE.glob("*.json")):
        compiled = CompiledForm(catalogue_definition(path.stem))
        for step in compiled.steps:
            form_class = compiled.form_class(step.id)
            empty = form_class(prefix=step.id, answers={}, language=language, today=TODAY)
            failed = form_class(data={}, prefix=step.id, answers={}, language=language, today=TODAY)
            failed.is_valid()
            variants = [("errors", failed)] + ([("empty", empty)] if language == "de" else [])
            for kind, form in variants:
                title = compiled.step_title(step.id, language)
                yield (
                    f"{path.stem}/{step.id}/{kind}",
                    template.render({"form": form, "title": title}, request),
                )


@pytest.mark.parametrize("language", ["de", "en"])
def test_step_forms_have_no_wcag_violations(live_server, page, language):
    reports = []
    current = {"html": ""}
    page.route(
        f"{live_server.url}/__step__",
        lambda route: route.fulfill(status=200, content_type="text/html", body=current["html"]),
    )
    # Control: the same harness reports a violation when there is one.
    current["html"] = '<!DOCTYPE html><html lang="de"><title>x</title><input id="x">'
    page.goto(f"{live_server.url}/__step__")
    assert Axe().run(page, options=WCAG_AA).violations_count >= 1
    count = 0
    for name, html in step_pages(language):
        current["html"] = html
        page.goto(f"{live_server.url}/__step__")
        # The KERN stylesheet is really applied (contrast is checked against it).
        assert page.evaluate("getComputedStyle(document.body).fontFamily").lower().find("fira") >= 0
        results = Axe().run(page, options=WCAG_AA)
        if results.violations_count:
            reports.append(f"{name}:\n{results.generate_report()}")
        count += 1
    assert count >= 30
    assert not reports, "\n".join(reports)


def test_add_and_remove_dogs_by_keyboard_without_javascript(live_server, browser):
    """The repeatable group's buttons are plain submit buttons: a real browser with
    JavaScript off adds and removes a dog, keeps what was typed, then submits."""
    import json

    from django.http import QueryDict

    compiled = CompiledForm(catalogue_definition("hundeanmeldung"))
    form_class = compiled.form_class("hunde")
    template = engines["django"].from_string(PAGE)
    request = RequestFactory().get("/")
    url = f"{live_server.url}/__step__"

    def handle(route):
        data = None
        if route.request.method == "POST":
            data = QueryDict(route.request.post_data or "", mutable=True)
        form = form_class(data=data, prefix="hunde", answers={}, language="de", today=TODAY)
        if data is not None and form.is_valid():
            answers = json.dumps(form.answers)
            body = (
                f'<!DOCTYPE html><html lang="de"><title>ok</title><pre id="answers">{answers}</pre>'
            )
        else:
            # URL-encoded here so that the test can parse the post with QueryDict.
            context = {
                "form": form,
                "title": "Hunde",
                "enctype": "application/x-www-form-urlencoded",
            }
            body = template.render(context, request)
        route.fulfill(status=200, content_type="text/html", body=body)

    context = browser.new_context(locale="de-DE", java_script_enabled=False)
    try:
        page = context.new_page()
        page.route(url, handle)
        page.goto(url)
        page.fill("#id_hunde-dogs-0-dog_name", "Bello")
        page.focus("button[name='hunde-dogs-add']")
        page.keyboard.press("Enter")
        page.wait_for_selector("#id_hunde-dogs-1-dog_name")
        assert page.input_value("#id_hunde-dogs-0-dog_name") == "Bello"
        assert page.locator(".kern-error").count() == 0  # adding does not validate

        page.fill("#id_hunde-dogs-1-dog_name", "Luna")
        page.focus("button[name='hunde-dogs-remove'][value='0']")
        page.keyboard.press("Enter")
        page.wait_for_selector("#id_hunde-dogs-1-dog_name", state="detached")
        assert page.input_value("#id_hunde-dogs-0-dog_name") == "Luna"

        dog = {"chip_number": "276098106123456", "birth_date_day": "1", "birth_date_month": "3",
               "birth_date_year": "2022", "breed": "Mischling", "colour": "braun",
               "keeping_since_day": "15", "keeping_since_month": "11",
               "keeping_since_year": "2026"}  # fmt: skip
        for name, value in dog.items():
            page.fill(f"#id_hunde-dogs-0-{name}", value)
        page.check("#id_hunde-dogs-0-sex_1")
        page.check("#id_hunde-dogs-0-dangerous_1")
        page.focus("button[type='submit'].kern-btn--primary")
        page.keyboard.press("Enter")
        answers = json.loads(page.inner_text("#answers"))
        assert answers["dogs"] == [
            {"dog_name": "Luna", "chip_number": "276098106123456", "birth_date": "2022-03-01",
             "breed": "Mischling", "sex": "huendin", "colour": "braun",
             "keeping_since": "2026-11-15", "dangerous": False}
        ]  # fmt: skip
    finally:
        context.close()
