"""The telephone type: phonenumbers checks, E.164 answers, national display."""

from __future__ import annotations

import pytest

from forms_catalog.checks import definition_errors
from forms_catalog.compiler import CompiledForm
from forms_catalog.summary import export, summarize
from tests.forms_catalog.helpers import T, definition, field, step_form

PHONE = field("phone", "telephone", label=T("Telefon", "Telephone"))


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("03643 762222", "+493643762222"),
        ("03643/76 22 22", "+493643762222"),
        ("+49 (0)3643 762222", "+493643762222"),
        ("0151 23456789", "+4915123456789"),
        ("+43 1 5331234", "+4315331234"),
    ],
)
def test_valid_numbers_are_stored_in_e164(typed, stored):
    form = step_form(definition(PHONE), {"phone": typed})
    assert form.is_valid(), form.errors
    assert form.answers == {"phone": stored}


@pytest.mark.parametrize(
    "typed",
    [
        "12",  # too short for any number
        "03643 7622221234567",  # too long
        "call me",
        "0800 FLOWERS",  # letters are not converted into digits
        "０３６４３ ７６２２２２",  # full-width digits
        "٠٣٦٤٣ ٧٦٢٢٢٢",  # Arabic-Indic digits
    ],
)
def test_invalid_numbers_are_refused_with_a_message_naming_the_field(typed):
    form = step_form(definition(PHONE), {"phone": typed})
    assert not form.is_valid()
    assert form.errors["phone"] == [
        "Bitte geben Sie bei „Telefon“ eine gültige Telefonnummer ein, "
        "z. B. 03643 762222 oder +49 3643 762222."
    ]


def test_the_message_is_english_in_an_english_form():
    form = step_form(definition(PHONE), {"phone": "12"}, language="en")
    assert not form.is_valid()
    assert form.errors["phone"] == [
        "For “Telephone”, enter a valid telephone number, "
        "for example 03643 762222 or +49 3643 762222."
    ]


def test_summary_shows_national_format_and_export_keeps_e164():
    compiled = CompiledForm(definition(PHONE, field("other", "telephone")))
    answers = {"phone": "+493643762222", "other": "+4315331234"}
    rows = summarize(compiled, answers, "de")[0].rows
    assert [r.value for r in rows] == ["03643 762222", "+43 1 5331234"]
    exported = export(compiled, answers, meta={})
    assert [f["value"] for f in exported["fields"]] == ["+493643762222", "+4315331234"]


def test_a_saved_number_is_shown_again_and_still_valid():
    compiled = CompiledForm(definition(PHONE))
    assert compiled.validate_answers({"phone": "+493643762222"}) == []
    form = compiled.form_class("s")(answers={"phone": "+493643762222"})
    (node,) = form.nodes()
    assert node.value == "+493643762222"
    assert (node.input_type, node.autocomplete, node.inputmode) == ("tel", "tel", "tel")


def test_the_type_is_accepted_in_a_definition():
    assert definition_errors(definition(PHONE)) == []
