"""The render tree and the rendered markup: labels, errors, hints, languages."""

from __future__ import annotations

import re

from django.template.loader import render_to_string

from tests.forms_catalog.helpers import (
    CHOICE,
    T,
    definition,
    field,
    options,
    step_form,
)


def render(defn, data=None, language="de", answers=None):
    form = step_form(defn, data, language=language, answers=answers)
    if data is not None:
        form.is_valid()
    return form, render_to_string("forms_catalog/step_fields.html", {"form": form})


def test_every_input_has_a_label_and_errors_are_linked():
    defn = definition(
        field("surname", "text", autocomplete="family-name", help=T("Wie im Ausweis")),
        field("born", "date", autocomplete="bday"),
        CHOICE,
        field("multi", "multichoice", options=options("x", "y")),
        field("agree", "consent"),
        field("doc", "file", extensions=["pdf"]),
        field("kind2", "choice", widget="select", options=options("a")),
    )
    form, html = render(defn, {"surname": ""})
    ids = re.findall(r'<(?:input|select|textarea)[^>]*\sid="([^"]+)"', html)
    assert ids
    for input_id in ids:
        assert f'for="{input_id}"' in html, input_id
    assert 'aria-describedby="id_surname-hint id_surname-error"' in html
    assert 'id="id_surname-error"' in html
    assert 'autocomplete="family-name"' in html
    for part in ("bday-day", "bday-month", "bday-year"):
        assert f'autocomplete="{part}"' in html
    assert html.count("<fieldset") >= 3 and "<legend" in html
    summary = dict(form.error_summary)
    assert "id_surname" in summary
    assert "id_born_day" in summary  # the first of the three date inputs
    assert "id_kind_0" in summary  # the first radio


def test_error_summary_template_links_to_each_field():
    form, _ = render(definition(field("surname", "text")), {"surname": ""})
    html = render_to_string("forms_catalog/error_summary.html", {"form": form})
    assert 'href="#id_surname"' in html
    assert 'role="alert"' in html


def test_text_inputs_carry_a_maxlength_even_without_definition():
    _, html = render(definition(field("v", "text")))
    assert 'maxlength="200"' in html


def test_english_rendering_uses_english_texts():
    _, html = render(definition(field("born", "date")), language="en")
    assert "Day" in html and "Month" in html and "Year" in html
    assert "Field born" in html


def test_saved_answers_are_shown_again_in_an_unbound_form():
    _, html = render(
        definition(field("born", "date"), field("ok", "yesno")),
        None,
        answers={"born": "1990-10-03", "ok": True},
    )
    assert 'name="born_day" value="3"' in html
    assert 'name="born_year" value="1990"' in html
    assert re.search(r'value="yes" checked', html)


def test_date_fields_get_an_example_hint_and_money_a_unit():
    _, html = render(definition(field("born", "date"), field("rent", "money")))
    assert "z. B. 27.3.2007" in html
    assert 'aria-describedby="id_born-hint"' in html
    assert "in Euro" in html


def test_date_hint_uses_each_languages_own_way_of_writing_a_date():
    _, german = render(definition(field("born", "date")))
    _, english = render(definition(field("born", "date")), language="en")
    assert "z. B. 27.3.2007" in german and "27 3 2007" not in german
    assert "For example, 27 3 2007" in english
