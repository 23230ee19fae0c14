"""FIM XDatenfelder import: the samples, every datentyp/feldart/anzahl, code lists, decisions."""

from __future__ import annotations

import pytest

from forms_catalog.checks import definition_errors
from forms_catalog.fim.services import fim_schema_import, form_version_export_fim
from forms_catalog.fim.xdf_read import NS_XDF2, NS_XDF3, FimImportError
from forms_catalog.models import FormVersion, Service
from forms_catalog.selectors import compiled_form
from forms_catalog.services import form_version_create_draft
from tests.factories import ServiceFactory
from tests.forms_catalog.fim_support import (
    GENERICODE_SAMPLE,
    XDF2_SAMPLE,
    XDF3_SAMPLE,
    all_fields,
    by_fim_id,
    field,
    genericode,
    group,
    sample,
    schema,
)

pytestmark = pytest.mark.django_db


def import_v2(slug: str = "hundesteuer-fim"):
    return fim_schema_import(
        schema=sample(XDF2_SAMPLE),
        codelists=[("geschlecht.gc.xml", sample(GENERICODE_SAMPLE))],
        service_slug=slug,
    )


def test_xdf2_sample_becomes_a_draft_of_a_new_service_that_compiles_and_renders():
    result = import_v2()
    version = result.version
    assert result.service_created
    assert version.status == FormVersion.Status.DRAFT
    assert version.service.name_de == "Hund anmelden"
    assert version.service.is_active is False
    assert "S99000001" in version.change_note
    definition = version.definition
    assert definition_errors(definition) == []
    assert [s["id"] for s in definition["steps"]] == [
        "halterin_oder_halter",
        "hund_schritt",
        "weitere_angaben",
    ]
    compiled = compiled_form(version=version)
    for step in compiled.steps:
        form = compiled.form_class(step.id)(prefix=step.id, answers={}, language="de")
        assert form.is_bound is False
    fields = by_fim_id(definition)
    # Every data field keeps its FIM id and version.
    assert fields["F60000000227"]["fim"] == {
        "id": "F60000000227",
        "version": "1.1",
        "name": "Familienname",
    }
    assert fields["F60000000227"] | {"fim": None} == {
        "id": "familienname",
        "type": "text",
        "label": {"de": "Familienname", "en": "Familienname"},
        "required": True,
        "fim": None,
        "max_length": 120,
        "min_length": 1,
    }
    assert fields["F60000000246"]["pattern"] == "[0-9]{5}"
    assert fields["F99000010"]["required"] is False  # anzahl 0:1
    assert fields["F99000010"]["help"]["de"] == "Für Rückfragen und die Eingangsbestätigung."
    assert fields["F99000026"]["type"] == "yesno"
    assert fields["F99000022"]["type"] == "date"
    # The genericode list gives the choices.
    assert fields["F99000024"]["type"] == "choice"
    assert [o["value"] for o in fields["F99000024"]["options"]] == ["m", "mk", "w", "wk"]
    assert fields["F99000024"]["options"][2]["label"]["de"] == "Hündin"
    # The repeating group (1:5) is a repeatable group; its file field moved behind it.
    step = definition["steps"][1]
    dogs = step["fields"][0]
    assert (dogs["type"], dogs["repeatable"], dogs["min"], dogs["max"]) == ("group", True, 1, 5)
    assert dogs["fim"]["id"] == "G99000002"
    upload = step["fields"][1]
    assert (upload["type"], upload["multiple"], upload["max_files"]) == ("file", True, 5)
    assert upload["fim"]["id"] == "F99000027"
    # Nested group Anschrift stays a group of the person step.
    address = definition["steps"][0]["fields"][3]
    assert address["type"] == "group" and address["fim"]["id"] == "G60000000086"
    # The rule is a note for the editor, never an executable rule.
    assert dogs["fim"]["rules"][0]["id"] == "R99000001"
    assert "14 Tage" in dogs["fim"]["rules"][0]["text"]
    assert "rules" not in dogs
    # The label field became the intro of its step.
    assert definition["steps"][2]["intro"]["de"].startswith("Ihre Angaben werden nur")
    report = result.report.as_text()
    assert "R99000001" in report and "nicht ausgeführt" in report
    assert "F99000027" in report and "verschoben" in report
    assert "Neue Leistung „hundesteuer-fim“ angelegt (noch nicht aktiv)" in report


def test_xdf3_sample_becomes_a_draft_with_inline_values_and_attribute_limits():
    result = fim_schema_import(schema=sample(XDF3_SAMPLE), service_slug="hund3")
    definition = result.version.definition
    assert definition_errors(definition) == []
    assert definition["fim"]["id"] == "S99000002"
    fields = by_fim_id(definition)
    assert fields["F60000000227"]["fim"]["version"] == "1.0.0"
    assert fields["F99000021"]["pattern"] == "[0-9]{15}"
    assert fields["F99000021"]["min_length"] == 15
    assert fields["F99000021"]["help"]["de"].startswith("Die 15-stellige Nummer")
    assert [o["value"] for o in fields["F99000024"]["options"]] == ["m", "mk", "w", "wk"]
    assert fields["F99000010"]["type"] == "text" and fields["F99000010"]["max_length"] == 254
    # The G99000102 group (1:5) is a repeatable step of its own.
    dogs = definition["steps"][1]["fields"][0]
    assert dogs["repeatable"] and dogs["max"] == 5


def test_existing_service_gets_the_draft_and_keeps_its_texts():
    service = ServiceFactory(slug="hundesteuer", name_de="Hundesteuer", name_en="Dog tax")
    result = fim_schema_import(schema=sample(XDF3_SAMPLE), service_slug="hundesteuer")
    assert not result.service_created
    assert result.version.service == service
    service.refresh_from_db()
    assert service.name_de == "Hundesteuer"


def test_import_with_an_open_draft_is_refused_and_creates_nothing():
    service = ServiceFactory(slug="hundesteuer")
    form_version_create_draft(service=service)
    with pytest.raises(FimImportError) as exc:
        fim_schema_import(schema=sample(XDF3_SAMPLE), service_slug="hundesteuer")
    assert "bereits einen Entwurf" in exc.value.message
    assert FormVersion.objects.filter(service=service).count() == 1


def test_missing_code_list_gives_a_text_field_and_a_report_line():
    result = fim_schema_import(schema=sample(XDF2_SAMPLE), service_slug="ohne-codeliste")
    geschlecht = by_fim_id(result.version.definition)["F99000024"]
    assert geschlecht["type"] == "text"
    text = result.report.as_text()
    assert "urn:de:thueringen:portal:codeliste:geschlecht.hund" in text
    assert "nicht mitgeliefert" in text


def test_code_list_of_another_version_is_not_used():
    other = sample(GENERICODE_SAMPLE).replace(b"<Version>1</Version>", b"<Version>2</Version>")
    other = other.replace(b"geschlecht.hund_1", b"geschlecht.hund_2")
    result = fim_schema_import(
        schema=sample(XDF2_SAMPLE), codelists=[("gc.xml", other)], service_slug="v2"
    )
    assert by_fim_id(result.version.definition)["F99000024"]["type"] == "text"


def synthetic_items(xdf: str) -> list[str]:
    def f(*args, **kwargs):
        return field(*args, xdf=xdf, **kwargs)

    return [
        group(
            "G77000001",
            "Alle Datentypen",
            f("F77000001", "Text", praezisierung={"minLength": "2", "maxLength": "40"}),
            f("F77000002", "Text Latein", datentyp="text_latin", anzahl="0:1"),
            f("F77000003", "Langer Text", praezisierung={"maxLength": "2000"}),
            f("F77000004", "Datum", datentyp="date"),
            f("F77000005", "Uhrzeit", datentyp="time"),
            f("F77000006", "Zeitpunkt", datentyp="datetime", anzahl="0:1"),
            f("F77000007", "Ja oder nein", datentyp="bool"),
            f("F77000008", "Kommazahl", datentyp="num", praezisierung={"minValue": "0.5"}),
            f(
                "F77000009",
                "Ganzzahl",
                datentyp="num_int",
                praezisierung={"minValue": "1", "maxValue": "99"},
            ),
            f("F77000010", "Betrag", datentyp="num_currency", praezisierung={"maxValue": "1000"}),
            f("F77000011", "Datei", datentyp="file", anzahl="0:1"),
            f("F77000012", "Objekt", datentyp="obj"),
            f("F77000013", "Hinweis", feldart="label", inhalt="Bitte vollständig ausfüllen."),
            f("F77000014", "Verborgen", feldart="hidden"),
            f("F77000015", "Gesperrt", feldart="locked"),
            f("F77000016", "Auswahl", feldart="select", werte=[("a", "A"), ("b ä", "B")]),
            f(
                "F77000017",
                "Mehrfachauswahl",
                feldart="select",
                anzahl="0:*",
                werte=[("x", "X"), ("y", "Y"), ("z", "Z")],
            ),
            f("F77000018", "Codeliste", feldart="select", codelist=("urn:test:farben", "3")),
            f("F77000019", "Telefonnummern", anzahl="1:5", praezisierung={"maxLength": "30"}),
            f("F77000020", "Nachweise", datentyp="file", anzahl="1:3"),
            f("F77000021", "Unbekannt", datentyp="geheim"),
            regel=("R77000001", "Datum muss in der Zukunft liegen."),
        ),
        group(
            "G77000002",
            "Optional",
            f("F77000030", "Bemerkung"),
            group("G77000003", "Tief", f("F77000031", "Ganz tief", anzahl="0:1")),
            anzahl="0:1",
        ),
        group("G77000004", "Kinder", f("F77000040", "Vorname Kind"), anzahl="0:*"),
        f("F77000050", "Oben", anzahl="1:1"),
    ]


@pytest.mark.parametrize("xdf", ["2", "3"])
def test_synthetic_schema_exercises_every_datentyp_feldart_and_anzahl(xdf):
    data = schema(*synthetic_items(xdf), xdf=xdf)
    farben = genericode("urn:test:farben", "3", [("rot", "Rot"), ("gruen", "Grün")])
    result = fim_schema_import(schema=data, codelists=[("f.xml", farben)], service_slug="synth")
    definition = result.version.definition
    assert definition_errors(definition) == []
    fields = by_fim_id(definition)
    kinds = {fim_id: spec["type"] for fim_id, spec in fields.items()}
    assert kinds == {
        "F77000001": "text",
        "F77000002": "text",
        "F77000003": "textarea",
        "F77000004": "date",
        "F77000005": "text",
        "F77000006": "text",
        "F77000007": "yesno",
        "F77000008": "number",
        "F77000009": "number",
        "F77000010": "money",
        "F77000011": "file",
        "F77000016": "choice",
        "F77000017": "multichoice",
        "F77000018": "choice",
        "F77000019": "text",
        "F77000020": "file",
        "F77000021": "text",
        "F77000030": "text",
        "F77000031": "text",
        "F77000040": "text",
        "F77000050": "text",
    }
    assert fields["F77000001"]["max_length"] == 40 and fields["F77000001"]["min_length"] == 2
    assert fields["F77000002"]["required"] is False and fields["F77000001"]["required"] is True
    assert fields["F77000005"]["pattern"] and fields["F77000005"]["pattern_message"]["en"]
    assert fields["F77000008"]["decimals"] == 2 and fields["F77000008"]["min"] == 0.5
    assert (fields["F77000009"]["min"], fields["F77000009"]["max"]) == (1, 99)
    assert fields["F77000010"]["max"] == 1000
    assert [o["value"] for o in fields["F77000016"]["options"]] == ["a", "b_ae"]
    assert "max_choices" not in fields["F77000017"] and fields["F77000017"]["required"] is False
    assert [o["value"] for o in fields["F77000018"]["options"]] == ["rot", "gruen"]
    assert fields["F77000020"]["multiple"] and fields["F77000020"]["max_files"] == 3
    assert fields["F77000020"]["required"] is True
    # Left out: obj, hidden, locked; the label is the step's intro.
    for gone in ("F77000012", "F77000014", "F77000015", "F77000013"):
        assert gone not in fields
    step = definition["steps"][0]
    assert step["intro"]["de"] == "Bitte vollständig ausfüllen."
    assert step["fim"]["rules"][0]["text"] == "Datum muss in der Zukunft liegen."
    assert step["fim"]["rules"][0]["script"] == "x = 1"
    # 1:5 on a field: a repeatable group around it.
    wrapper = next(f for f in step["fields"] if f["id"].endswith("_liste"))
    assert (wrapper["min"], wrapper["max"]) == (1, 5)
    assert wrapper["fields"][0]["fim"]["id"] == "F77000019"
    # 0:1 group: repeatable with at most one entry; the nested group is dissolved.
    optional = definition["steps"][1]["fields"][0]
    assert (optional["repeatable"], optional["min"], optional["max"]) == (True, 0, 1)
    assert [f["fim"]["id"] for f in optional["fields"]] == ["F77000030", "F77000031"]
    # 0:* group: repeatable up to the platform's limit.
    children = definition["steps"][2]["fields"][0]
    assert (children["min"], children["max"]) == (0, 50)
    # A field directly under the schema: the step "Weitere Angaben".
    assert definition["steps"][3]["title"]["de"] == "Weitere Angaben"
    report = result.report.as_text()
    for expected in (
        "F77000012",
        "obj",
        "F77000014",
        "hidden",
        "F77000015",
        "locked",
        "F77000021",
        "geheim",
        "text_latin",
        "b ä",
        "G77000003",
        "R77000001",
    ):
        assert expected in report, expected
    compiled = compiled_form(version=result.version)
    assert len(compiled.steps) == 4


def test_xdf3_code_list_reference_with_chosen_columns():
    data = schema(
        group(
            "G1",
            "Gruppe",
            field(
                "F1",
                "Farbe",
                feldart="select",
                codelist=("urn:test:farben", "3"),
                keys={"codeKey": "code", "nameKey": "kurz"},
            ),
            field("F2", "Anteil", datentyp="num", praezisierung={"fractionDigits": "1"}),
        )
    )
    farben = genericode("urn:test:farben", "3", [("rot", "Rot"), ("gruen", "Grün")])
    result = fim_schema_import(schema=data, codelists=[("f.xml", farben)], service_slug="farben")
    fields = by_fim_id(result.version.definition)
    assert [(o["value"], o["label"]["de"]) for o in fields["F1"]["options"]] == [
        ("rot", "ROT"),
        ("gruen", "GRUEN"),
    ]
    assert fields["F2"]["decimals"] == 1


def test_xdf3_single_group_message_becomes_a_one_step_draft():
    wrapped = group("G5", "Kontaktdaten", field("F5", "Telefon"), field("F6", "Fax", anzahl="0:1"))
    inner = wrapped.split("<xdf:enthaelt>", 1)[1].rsplit("</xdf:enthaelt>", 1)[0]
    data = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<xdf:xdatenfelder.datenfeldgruppe.0103 xmlns:xdf="{NS_XDF3}">'
        f"<xdf:header><xdf:nachrichtID>t</xdf:nachrichtID></xdf:header>{inner}"
        "</xdf:xdatenfelder.datenfeldgruppe.0103>"
    ).encode()
    definition = fim_schema_import(schema=data, service_slug="kontakt").version.definition
    assert definition["fim"]["id"] == "G5"
    assert [s["fim"]["id"] for s in definition["steps"]] == ["G5"]
    assert [f["required"] for f in all_fields(definition)] == [True, False]
    # XDatenfelder 2 has no such message.
    with pytest.raises(FimImportError, match="keine Stammdatenschema-Nachricht"):
        fim_schema_import(
            schema=data.replace(NS_XDF3.encode(), NS_XDF2.encode()), service_slug="kontakt2"
        )


def test_large_groups_and_steps_continue_in_parts():
    data = schema(
        group(
            "G1",
            "Viel",
            *[field(f"F1{i:03d}", f"Feld {i}") for i in range(85)],
            group("G2", "Adresse", *[field(f"F2{i:03d}", f"Zeile {i}") for i in range(45)]),
        )
    )
    result = fim_schema_import(schema=data, service_slug="gross")
    definition = result.version.definition
    assert definition_errors(definition) == []
    assert [s["title"]["de"] for s in definition["steps"]] == ["Viel", "Viel (Teil 2)"]
    assert len(definition["steps"][0]["fields"]) == 80
    groups = [f for s in definition["steps"] for f in s["fields"] if f.get("type") == "group"]
    assert [g["label"]["de"] for g in groups] == ["Adresse", "Adresse (Teil 2)"]
    assert [len(g["fields"]) for g in groups] == [40, 5]
    assert len(by_fim_id(definition)) == 130
    text = result.report.as_text()
    assert "in Teile zu höchstens 40 aufgeteilt" in text
    assert "in Teile zu höchstens 80 aufgeteilt" in text


def test_repeated_field_inside_a_fieldset_follows_the_fieldset():
    data = schema(
        group(
            "G1",
            "Person",
            group("G2", "Kontakt", field("F1", "Telefon", anzahl="1:3"), field("F2", "Fax")),
        )
    )
    result = fim_schema_import(schema=data, service_slug="kontakt")
    step = result.version.definition["steps"][0]
    assert [f["type"] for f in step["fields"]] == ["group", "group"]
    contact, phones = step["fields"]
    assert [f["fim"]["id"] for f in contact["fields"]] == ["F2"]
    assert (phones["repeatable"], phones["min"], phones["max"]) == (True, 1, 3)
    assert phones["fields"][0]["fim"]["id"] == "F1"
    assert "hinter seiner Gruppe" in result.report.as_text()
    exported, _report = form_version_export_fim(version=result.version)
    again = fim_schema_import(schema=exported, service_slug="kontakt-wieder").version
    assert again.definition == result.version.definition


def test_unusable_pattern_and_limits_are_reported_not_imported():
    data = schema(
        group(
            "G1",
            "Gruppe",
            field("F1", "Böses Muster", praezisierung={"pattern": "(a+)+$"}),
            field("F2", "Kaputtes Muster", praezisierung={"pattern": "[a-"}),
            field("F3", "Falsche Länge", praezisierung={"minLength": "9", "maxLength": "3"}),
            field("F4", "Keine Zahl", datentyp="num", praezisierung={"minValue": "viel"}),
            field("F5", "Fremde Präzisierung", praezisierung={"totalDigits": "3"}),
        )
    )
    result = fim_schema_import(schema=data, service_slug="muster")
    fields = by_fim_id(result.version.definition)
    assert "pattern" not in fields["F1"] and "pattern" not in fields["F2"]
    assert "min_length" not in fields["F3"]
    assert "min" not in fields["F4"]
    text = result.report.as_text()
    assert "(a+)+$" in text and "[a-" in text and "totalDigits" in text and "viel" in text


def test_xdf2_praezisierung_that_is_not_json_is_reported():
    data = schema(group("G1", "Gruppe", field("F1", "Feld", xdf="2")), xdf="2").replace(
        b"<xdf:inhalt>", b"<xdf:praezisierung>maxLength=3</xdf:praezisierung><xdf:inhalt>"
    )
    result = fim_schema_import(schema=data, service_slug="praez")
    assert "maxLength=3" in result.report.as_text()
    assert "max_length" not in by_fim_id(result.version.definition)["F1"]


def test_ids_are_unique_even_for_equal_names():
    data = schema(
        group("G1", "Person", field("F1", "Name"), field("F2", "Name")),
        group("G2", "Person", field("F3", "Name")),
    )
    definition = fim_schema_import(schema=data, service_slug="namen").version.definition
    ids = [f["id"] for f in all_fields(definition)] + [s["id"] for s in definition["steps"]]
    assert len(ids) == len(set(ids))
    assert Service.objects.filter(slug="namen").exists()
