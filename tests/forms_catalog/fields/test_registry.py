"""The field type registry: one module per type, the schema's type list from the registry."""

from __future__ import annotations

from pathlib import Path

import pytest

from forms_catalog import fields
from forms_catalog.checks import definition_errors, schema
from forms_catalog.compiler import CompiledForm
from forms_catalog.summary import summarize
from tests.forms_catalog.helpers import T, definition, field, options, step_form

FIELDS_PACKAGE = Path(fields.__file__).resolve().parent


def test_every_module_of_the_package_registers_one_type():
    modules = {p.stem for p in FIELDS_PACKAGE.glob("*.py")} - {"__init__", "base"}
    defined_in = {type(kind).__module__.rsplit(".", 1)[-1] for kind in fields.registered().values()}
    assert modules == defined_in


def test_the_schemas_type_list_is_the_registry():
    assert schema()["$defs"]["field"]["properties"]["type"]["enum"] == fields.type_names()
    assert definition_errors(definition(field("v", "no_such_type")), render=False)


def test_a_types_own_properties_are_part_of_the_schema_and_its_required_ones_enforced():
    properties = schema()["$defs"]["field"]["properties"]
    assert {"options", "extensions", "min_age", "decimals", "pattern"} <= set(properties)
    errors = definition_errors(definition(field("c", "choice")), render=False)
    assert any("options" in e.message for e in errors)


def test_a_property_no_type_knows_is_refused():
    errors = definition_errors(definition(field("v", "text", colour="red")), render=False)
    assert errors


@pytest.mark.parametrize(
    ("iban", "valid"),
    [
        ("DE89 3704 0044 0532 0130 00", True),
        ("de89370400440532013000", True),
        ("DE89370400440532013001", False),  # check digits
        ("DE8937040044053201300", False),  # length
        ("XX89370400440532013000", False),  # no such country
    ],
)
def test_iban_is_checked_by_schwifty(iban, valid):
    form = step_form(definition(field("v", "iban")), {"v": iban})
    assert form.is_valid() is valid
    if valid:
        assert form.answers["v"] == "DE89370400440532013000"


@pytest.mark.parametrize(
    ("number", "valid"),
    [
        ("86095742719", True),
        ("86 095 742 719", True),
        ("86095742718", False),
        ("01234567890", False),
    ],
)
def test_steuer_id_is_checked_by_stdnum(number, valid):
    assert step_form(definition(field("v", "steuer_id")), {"v": number}).is_valid() is valid


def test_a_file_field_may_not_promise_more_than_the_portals_upload_limit(settings):
    settings.PORTAL_MAX_UPLOAD_BYTES = 2 * 1024 * 1024
    allowed = field("f", "file", extensions=["pdf"], max_size=2 * 1024 * 1024)
    too_big = field("f", "file", extensions=["pdf"], max_size=2 * 1024 * 1024 + 1)
    assert definition_errors(definition(allowed), render=False) == []
    errors = definition_errors(definition(too_big), render=False)
    assert [e.path for e in errors] == ["steps[0].fields[0].max_size"]


@pytest.mark.parametrize(
    ("language", "texts"),
    [
        ("de", ["1.234,50 €", "12.345,5 m²", "01.03.2000", "Ja", "DE89 3704 0044 0532 0130 00"]),
        ("en", ["€1,234.50", "12,345.5 m²", "1 March 2000", "Yes", "DE89 3704 0044 0532 0130 00"]),
    ],
)
def test_summary_values_use_djangos_formats_in_the_applications_language(language, texts):
    compiled = CompiledForm(
        definition(
            field("fee", "money"),
            field("area", "number", decimals=1, unit=T("m²")),
            field("born", "date"),
            field("dog", "yesno"),
            field("iban", "iban"),
        )
    )
    answers = {
        "fee": "1234.50",
        "area": "12345.5",
        "born": "2000-03-01",
        "dog": True,
        "iban": "DE89370400440532013000",
    }
    rows = summarize(compiled, answers, language)[0].rows
    assert [r.value for r in rows] == texts


def test_required_messages_name_the_field_in_the_forms_language():
    defn = definition(
        field("surname", "text", label=T("Familienname", "Surname")),
        field("kind", "choice", options=options("a", "b"), label=T("Art", "Kind")),
        field("ok", "consent", label=T("Richtigkeit", "Accuracy")),
    )
    de = step_form(defn, {})
    en = step_form(defn, {}, language="en")
    assert not de.is_valid() and not en.is_valid()
    assert de.errors["surname"] == ["Bitte geben Sie „Familienname“ an."]
    assert en.errors["surname"] == ["Enter “Surname”."]
    assert de.errors["kind"] == ["Bitte wählen Sie bei „Art“ eine Antwort aus."]
    assert en.errors["ok"] == ["Confirm “Accuracy” to continue."]


def test_date_bounds_in_messages_follow_the_language():
    spec = field("v", "date", min_date="2000-01-01")
    data = {"v_day": "1", "v_month": "1", "v_year": "1999"}
    form = step_form(definition(spec), data, language="en")
    assert not form.is_valid()
    assert form.errors["v"] == ["“Field v” must not be before 1 January 2000."]
