"""German and English number notation in number and money fields (issue 13, problem 6)."""

from __future__ import annotations

import pytest
from django.utils import translation

from forms_catalog.compiler import CompiledForm
from forms_catalog.fields import type_names
from tests.forms_catalog.helpers import TODAY, definition, field, step_form

MONEY = field("v", "money")
WHOLE = field("v", "number")
TWO_PLACES = field("v", "number", decimals=2)


@pytest.mark.parametrize(
    ("spec", "typed", "language", "stored"),
    [
        (MONEY, "2.150", "de", "2150.00"),
        (MONEY, "1.450,00", "de", "1450.00"),
        (MONEY, "1450", "de", "1450.00"),
        (MONEY, "1450,5", "de", "1450.50"),
        (MONEY, "1.234.567,89 €", "de", "1234567.89"),
        (MONEY, "2,150.00", "en", "2150.00"),
        (MONEY, "2,150", "en", "2150.00"),
        (MONEY, "1450.5", "en", "1450.50"),
        (MONEY, "2,150.00", "de", "2150.00"),  # both marks: the later one is the decimal one
        (WHOLE, "2.150", "de", 2150),
        (WHOLE, "1.450,00", "de", 1450),
        (WHOLE, "12,345", "en", 12345),
        (TWO_PLACES, "1450,5", "de", "1450.5"),
    ],
)
def test_numbers_are_read_in_the_pages_language(spec, typed, language, stored):
    with translation.override(language):
        form = step_form(definition(spec), {"v": typed}, language=language)
        assert form.is_valid(), form.errors
    assert form.cleaned_data["v"] == stored


@pytest.mark.parametrize(
    ("spec", "typed", "language", "words"),
    [
        (MONEY, "1.45", "de", "Bei „Feld v“ ist nicht klar, ob der Punkt"),
        (WHOLE, "12.5", "de", "Bei „Feld v“ ist nicht klar, ob der Punkt"),
        (MONEY, "1,45", "en", "For “Field v”, it is not clear whether the comma"),
    ],
)
def test_only_a_really_ambiguous_number_asks_back(spec, typed, language, words):
    with translation.override(language):
        form = step_form(definition(spec), {"v": typed}, language=language)
        assert not form.is_valid()
        assert words in " ".join(form.errors["v"])


@pytest.mark.parametrize(
    "typed",
    [
        "1.2.3,4",
        "1,2,3",
        "١٤٥٠",
        "1.450,٥٠",
        "１４５０",
        "1e3",
        "NaN",
        "--5",
        "1.450,",
        ",5",
        "<b>1</b>",
    ],
)
def test_malformed_and_non_ascii_numbers_stay_refused(typed):
    form = step_form(definition(MONEY), {"v": typed})
    assert not form.is_valid()
    assert "Feld v" in " ".join(form.errors["v"])


@pytest.mark.parametrize("language", ["de", "en"])
def test_a_stored_amount_passes_the_final_check_and_is_shown_in_the_pages_notation(language):
    # A stored "1450.50" must neither be refused as ambiguous when the whole
    # application is re-checked nor come back to the citizen as "1450.50" in German.
    compiled = CompiledForm(definition(MONEY, TWO_PLACES | {"id": "w"}))
    answers = {"v": "1450.50", "w": "12.5"}
    with translation.override(language):
        assert compiled.validate_answers(answers, language=language, today=TODAY) == []
        form = compiled.form_class("s")(answers=answers, language=language, today=TODAY)
        values = {node.name: node.value for node in form.nodes() if hasattr(node, "name")}
    expected = ("1450,50", "12,5") if language == "de" else ("1450.50", "12.5")
    assert (values.get("v"), values.get("w")) == expected


EXTRA = {
    "choice": {"options": [{"value": "a", "label": {"de": "A", "en": "A"}}]},
    "multichoice": {"options": [{"value": "a", "label": {"de": "A", "en": "A"}}]},
    "pattern": {"pattern": r"\d+", "pattern_message": {"de": "Ziffern", "en": "Digits"}},
}


@pytest.mark.parametrize("kind", sorted(type_names()))
@pytest.mark.parametrize("language", ["de", "en"])
def test_every_field_type_names_its_field_when_left_empty(kind, language):
    # Seven identical "Bitte füllen Sie dieses Feld aus." in one summary help nobody.
    spec = field("v", kind, **EXTRA.get(kind, {}))
    with translation.override(language):
        form = step_form(definition(spec), {}, language=language)
        assert not form.is_valid()
        messages = [text for _anchor, text in form.error_summary]
    assert messages, kind
    assert all(("Feld v" if language == "de" else "Field v") in m for m in messages), messages
