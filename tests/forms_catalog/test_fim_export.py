"""XDatenfelder 3 export and the round trip export -> import."""

from __future__ import annotations

import json

import pytest
from defusedxml.ElementTree import fromstring

from forms_catalog.fim.services import (
    FimExportError,
    fim_export_version,
    fim_schema_import,
    form_version_export_fim,
)
from forms_catalog.fim.xdf_read import NS_XDF3, schema_read
from forms_catalog.models import FormVersion
from forms_catalog.services import catalogue_load, form_version_publish_system
from tests.forms_catalog.fim_support import (
    GENERICODE_SAMPLE,
    XDF2_SAMPLE,
    XDF3_SAMPLE,
    all_fields,
    genericode,
    sample,
    schema,
)
from tests.forms_catalog.test_fim_import import synthetic_items

pytestmark = pytest.mark.django_db

X = f"{{{NS_XDF3}}}"


def normalised(definition: dict) -> str:
    return json.dumps(definition, sort_keys=True, ensure_ascii=False)


def round_trip(version: FormVersion, slug: str) -> FormVersion:
    """Export `version`, publish it away, and import the export as a draft of `slug`."""
    data, _report = form_version_export_fim(version=version)
    return fim_schema_import(schema=data, service_slug=slug).version


@pytest.mark.parametrize(
    ("path", "codelists"),
    [(XDF2_SAMPLE, [("gc.xml", GENERICODE_SAMPLE)]), (XDF3_SAMPLE, [])],
)
def test_sample_round_trip_gives_the_same_form(path, codelists):
    first = fim_schema_import(
        schema=sample(path),
        codelists=[(name, sample(p)) for name, p in codelists],
        service_slug="erst",
    ).version
    again = round_trip(first, "wieder")
    assert normalised(again.definition) == normalised(first.definition)
    # And once more: the export of the re-imported form is the same document.
    third = round_trip(again, "nochmal")
    assert normalised(third.definition) == normalised(first.definition)


@pytest.mark.parametrize("xdf", ["2", "3"])
def test_synthetic_schema_round_trip_gives_the_same_form(xdf):
    farben = genericode("urn:test:farben", "3", [("rot", "Rot"), ("gruen", "Grün")])
    first = fim_schema_import(
        schema=schema(*synthetic_items(xdf), xdf=xdf),
        codelists=[("f.xml", farben)],
        service_slug="synth",
    ).version
    again = round_trip(first, "synth-wieder")
    assert normalised(again.definition) == normalised(first.definition)


def test_export_is_xdatenfelder_3_with_fim_ids_values_and_rules():
    version = fim_schema_import(
        schema=sample(XDF2_SAMPLE),
        codelists=[("gc.xml", sample(GENERICODE_SAMPLE))],
        service_slug="hund",
    ).version
    data, report = form_version_export_fim(version=version)
    root = fromstring(data)
    assert root.tag == f"{X}xdatenfelder.stammdatenschema.0102"
    stamm = root.find(f"{X}stammdatenschema")
    assert stamm.findtext(f"{X}identifikation/{X}id") == "S99000001"
    ids = {
        (el.findtext(f"{X}identifikation/{X}id"), el.findtext(f"{X}identifikation/{X}version"))
        for el in root.iter(f"{X}datenfeld")
    }
    assert ("F60000000227", "1.1") in ids and ("F99000024", "1.0") in ids
    select = next(
        el
        for el in root.iter(f"{X}datenfeld")
        if el.findtext(f"{X}identifikation/{X}id") == "F99000024"
    )
    assert select.findtext(f"{X}feldart/code") == "select"
    assert [w.findtext(f"{X}code") for w in select.iter(f"{X}wert")] == ["m", "mk", "w", "wk"]
    rule = next(root.iter(f"{X}regel"))
    assert rule.findtext(f"{X}identifikation/{X}id") == "R99000001"
    assert "14 Tage" in rule.findtext(f"{X}freitextRegel")
    # The export is a schema the importer reads (version 3).
    assert schema_read(data).xdf_version == "3"
    assert "deutschen Texte" in report.as_text()


def test_catalogue_form_exports_with_generated_ids_and_a_report_of_what_is_lost():
    catalogue_load(path=None)
    version = FormVersion.objects.get(service__slug="hundeanmeldung")
    data, report = form_version_export_fim(version=version)
    text = report.as_text()
    assert "Bedingungen" in text and "Gebühren" in text
    again = fim_schema_import(schema=data, service_slug="hund-aus-fim").version
    # The structure survives: every field of the form comes back, in order, with a FIM id.
    original = [f["id"] for f in all_fields(version.definition)]
    imported = all_fields(again.definition)
    assert len(imported) == len(original)
    assert [f["fim"]["name"] for f in imported] == original
    assert all(f["fim"]["id"].startswith("F99") for f in imported)


def test_export_picks_published_draft_or_number():
    first = fim_schema_import(schema=sample(XDF3_SAMPLE), service_slug="hund").version
    service = first.service
    with pytest.raises(FimExportError) as exc:
        fim_export_version(service=service)
    assert "veröffentlichte Version" in exc.value.message
    form_version_publish_system(version=first)
    assert fim_export_version(service=service) == first
    with pytest.raises(FimExportError):
        fim_export_version(service=service, draft=True)
    second = fim_schema_import(schema=sample(XDF3_SAMPLE), service_slug="hund").version
    assert fim_export_version(service=service, draft=True) == second
    assert fim_export_version(service=service, number=1) == first
    assert fim_export_version(service=service) == first
    with pytest.raises(FimExportError):
        fim_export_version(service=service, number=7)
