"""The definition's errors in German, by step title and field label, with the element path."""

from __future__ import annotations

import pytest

from forms_catalog.checks import DefinitionError, definition_errors
from forms_catalog.designer.problems import describe
from tests.forms_catalog.helpers import T, field, options

pytestmark = pytest.mark.django_db


def broken() -> dict:
    return {
        "schema_version": 1,
        "steps": [
            {
                "id": "person",
                "title": {"de": "Angaben zur Person", "en": ""},
                "fields": [
                    {"id": "name", "type": "text", "label": {"de": "Familienname"}},
                    field("art", "choice", options=[]),
                    {"id": "kinder", "type": "group", "label": T("Kinder"), "fields": []},
                ],
            }
        ],
    }


def test_schema_errors_become_german_sentences_naming_step_and_field():
    definition = broken()
    problems = describe(definition, definition_errors(definition))
    found = {(p.step, p.field, p.message, p.element) for p in problems}
    assert (
        "Angaben zur Person",
        "Familienname",
        "Beschriftung: englische Fassung fehlt.",
        "steps/person/fields/name",
    ) in found
    assert (
        "Angaben zur Person",
        "Feld art",
        "Es gibt noch keine Antwortmöglichkeit.",
        "steps/person/fields/art",
    ) in found
    assert (
        "Angaben zur Person",
        "Kinder",
        "Hier ist noch kein Feld. Bitte fügen Sie mindestens ein Feld hinzu.",
        "steps/person/fields/kinder",
    ) in found
    assert ("Angaben zur Person", "", "Titel: englische Fassung fehlt.", "steps/person") in found
    # The technical text stays available as detail; no message is English.
    assert all(p.detail for p in problems)
    assert not any("required property" in p.message for p in problems)


def test_meaning_errors_and_unknown_errors_are_listed_too():
    definition = {
        "schema_version": 1,
        "steps": [
            {
                "id": "s",
                "title": T("Schritt"),
                "fields": [
                    field("a", "text", pattern="(a+)+"),
                    field("b", "choice", options=options("x", "x")),
                    field("c", "text", visible_if={"field": "later"}),
                ],
            }
        ],
    }
    messages = [p.message for p in describe(definition, definition_errors(definition))]
    assert any("verschachtelte Wiederholung" in m for m in messages)
    assert any("müssen verschieden sein" in m for m in messages)
    assert any("unbekanntes oder späteres Feld" in m for m in messages)
    odd = describe(definition, [DefinitionError("fees.lines[0]", "something new")])
    assert odd[0].element is None and odd[0].step == "" and "Gebühren" in odd[0].message
    root = describe({"steps": "x"}, [DefinitionError("", "not JSON data")])
    assert root[0].element is None and root[0].detail
