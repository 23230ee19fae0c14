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
<form method="post" enctype="multipart/form-data" novalidate>
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
