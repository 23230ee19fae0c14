"""Form versions (draft -> published -> retired), publishing checks, catalogue files."""

from __future__ import annotations

import copy
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from forms_catalog.checks import definition_errors
from forms_catalog.models import FormVersion, Service
from forms_catalog.selectors import published_version
from forms_catalog.services import (
    FormVersionError,
    catalogue_load,
    definition_checksum,
    form_version_create_draft,
    form_version_export,
    form_version_import,
    form_version_publish_system,
    form_version_retire,
    form_version_update_draft,
)
from tests.factories import ServiceFactory
from tests.forms_catalog.helpers import CATALOGUE, T, catalogue_definition, definition, field

pytestmark = pytest.mark.django_db


def three_steps(bad_field: dict) -> dict:
    steps = [
        {
            "id": f"s{i}",
            "title": T(f"Schritt {i}"),
            "fields": [field(f"f{i}_{j}", "text") for j in range(5)],
        }
        for i in range(3)
    ]
    steps[2]["fields"][4] = bad_field
    return {"schema_version": 1, "steps": steps}


@pytest.mark.parametrize(
    ("bad_field", "path", "words"),
    [
        (
            field("x", "text", visible_if={"eq": [{"field": "nowhere"}, 1]}),
            "steps[2].fields[4].visible_if.eq[0].field",
            "unknown or later field 'nowhere'",
        ),
        (
            field("x", "text", visible_if={"eq": [{"field": "later"}, 1]}),
            "steps[2].fields[4].visible_if.eq[0].field",
            "later",
        ),
        (field("x", "text", visible_if={"python": "1"}), "steps[2].fields[4].visible_if", ""),
        (field("x", "choice"), "steps[2].fields[4]", "options"),
        (field("x", "colour"), "steps[2].fields[4].type", ""),
        (
            field("x", "pattern", pattern="(", pattern_message=T("x")),
            "steps[2].fields[4].pattern",
            "invalid regular expression",
        ),
        (
            field("x", "pattern", pattern="(a+)+$", pattern_message=T("x")),
            "steps[2].fields[4].pattern",
            "nested quantifier",
        ),
        (field("f0_1", "text"), "steps[2].fields[4].id", "already used at steps[0].fields[1]"),
        (field("x", "text", min_length=10, max_length=5), "steps[2].fields[4].min_length", ""),
        (
            {"id": "x", "type": "text", "label": {"de": "nur deutsch"}},
            "steps[2].fields[4].label",
            "en",
        ),
        (field("x", "text", autocomplete="iban"), "steps[2].fields[4].autocomplete", "autofill"),
        (field("x", "file", extensions=["exe"]), "steps[2].fields[4].extensions[0]", ""),
    ],
)
def test_publishing_an_invalid_definition_is_refused_naming_the_path(bad_field, path, words):
    service = ServiceFactory()
    draft = form_version_create_draft(service=service, definition=three_steps(bad_field))
    with pytest.raises(FormVersionError) as info:
        form_version_publish_system(version=draft)
    paths = [e.path for e in info.value.errors]
    assert path in paths, info.value.errors
    assert any(words in e.message for e in info.value.errors if e.path == path)
    draft.refresh_from_db()
    assert draft.status == FormVersion.Status.DRAFT
    assert published_version(service=service) is None


def test_fee_and_rule_references_are_checked():
    defn = definition(
        field("a", "text"),
        rules=[
            {
                "id": "r",
                "assert": {"eq": [{"field": "zz"}, 1]},
                "fields": ["nope"],
                "message": T("m"),
            }
        ],
    )
    defn["fees"] = {
        "lines": [
            {"id": "l", "label": T("x"), "amount": {"param": "undeclared"}},
            {"id": "m", "label": T("y"), "for_each": "a", "amount": 1},
        ]
    }
    paths = {e.path for e in definition_errors(defn)}
    assert {
        "steps[0].rules[0].assert.eq[0].field",
        "steps[0].rules[0].fields[0]",
        "fees.lines[0].amount.param",
        "fees.lines[1].for_each",
    } <= paths


def test_schema_errors_for_non_objects():
    assert definition_errors(None)
    assert definition_errors({"schema_version": 1, "steps": []})[0].path == "steps"


def test_a_render_failure_blocks_publishing(settings, tmp_path):
    broken = tmp_path / "forms_catalog"
    broken.mkdir()
    (broken / "step_fields.html").write_text("{% if %}")
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}
    ]
    errors = definition_errors(definition(field("a", "text")))
    assert errors and errors[0].path == "steps[0]" and "cannot render" in errors[0].message


def test_lifecycle_draft_published_retired_and_immutability():
    service = ServiceFactory()
    v1 = form_version_create_draft(service=service, definition=definition(field("a", "text")))
    with pytest.raises(FormVersionError):
        form_version_create_draft(service=service)  # one open draft per service
    form_version_publish_system(version=v1)
    assert v1.status == FormVersion.Status.PUBLISHED and v1.published_at
    assert v1.checksum == definition_checksum(v1.definition)
    with pytest.raises(FormVersionError, match="unveränderlich"):
        form_version_update_draft(version=v1, definition=definition(field("b", "text")))
    v1.refresh_from_db()
    assert v1.definition["steps"][0]["fields"][0]["id"] == "a"

    v2 = form_version_create_draft(service=service)
    assert v2.number == 2 and v2.definition == v1.definition  # copied from the latest
    changed = copy.deepcopy(v2.definition)
    changed["steps"][0]["fields"].append(field("b", "text", required=False))
    form_version_update_draft(version=v2, definition=changed, change_note="Feld b")
    form_version_publish_system(version=v2)
    v1.refresh_from_db()
    assert v1.status == FormVersion.Status.RETIRED
    assert published_version(service=service) == v2
    with pytest.raises(FormVersionError):
        form_version_publish_system(version=v2)
    form_version_retire(version=v2)
    assert published_version(service=service) is None
    with pytest.raises(FormVersionError):
        form_version_retire(version=v2)


# --- catalogue files --------------------------------------------------------------
def test_load_catalogue_is_idempotent_and_publishes_only_changes(tmp_path):
    report = catalogue_load()
    assert sorted(report.published) == sorted(f"{p.stem} v1" for p in CATALOGUE.glob("*.json"))
    assert not report.failed
    again = catalogue_load()
    assert again.published == [] and len(again.unchanged) == 6
    assert FormVersion.objects.count() == 6

    data = json.loads((CATALOGUE / "hundeanmeldung.json").read_text())
    data["service"]["summary_de"] = "Neue Beschreibung"
    (tmp_path / "hundeanmeldung.json").write_text(json.dumps(data))
    report = catalogue_load(path=tmp_path)
    assert report.published == [] and report.unchanged == ["hundeanmeldung"]
    assert Service.objects.get(slug="hundeanmeldung").summary_de == "Neue Beschreibung"

    data["definition"]["steps"][0]["fields"][0]["help"] = T("Neu", "New")
    (tmp_path / "hundeanmeldung.json").write_text(json.dumps(data))
    report = catalogue_load(path=tmp_path)
    assert report.published == ["hundeanmeldung v2"]
    service = Service.objects.get(slug="hundeanmeldung")
    assert published_version(service=service).number == 2
    assert FormVersion.objects.get(service=service, number=1).status == FormVersion.Status.RETIRED


def test_leistungsschluessel_only_where_known():
    catalogue_load()
    keys = dict(Service.objects.values_list("slug", "leistungsschluessel"))
    assert keys == {
        "gewerbe-anmeldung": "99050012104000",
        "wohngeld-mietzuschuss": "99107023037000",
        "hundeanmeldung": "99102013104000",
        "bauantrag": "",
        "reisepass": "",
        "veranstaltungsanmeldung": "",
    }


def test_a_broken_catalogue_file_changes_nothing_and_the_command_fails(tmp_path):
    data = json.loads((CATALOGUE / "reisepass.json").read_text())
    data["definition"]["steps"][1]["fields"][0]["visible_if"] = {"field": "does_not_exist"}
    (tmp_path / "reisepass.json").write_text(json.dumps(data))
    (tmp_path / "kaputt.json").write_text("{not json")
    with pytest.raises(CommandError, match="2 catalogue file"):
        call_command("load_catalogue", "--path", str(tmp_path))
    assert not Service.objects.filter(slug="reisepass").exists()


def test_export_and_import_round_trip(tmp_path, capsys):
    catalogue_load()
    target = tmp_path / "hund.json"
    call_command("export_form", "hundeanmeldung", "--version", "1", "-o", str(target))
    exported = json.loads(target.read_text())
    assert exported["definition"] == catalogue_definition("hundeanmeldung")
    assert exported["version"]["number"] == 1
    call_command("import_form", str(target))
    draft = FormVersion.objects.get(service__slug="hundeanmeldung", status=FormVersion.Status.DRAFT)
    assert draft.number == 2 and draft.definition == exported["definition"]
    assert "created draft hundeanmeldung v2" in capsys.readouterr().out


def test_import_creates_an_unknown_service_and_refuses_garbage():
    exported = {
        "format": "thueringen-portal/form-version@1",
        "service": {"slug": "neu", "name_de": "Neu", "name_en": "New"},
        "version": {"change_note": "x"},
        "definition": definition(field("a", "text")),
    }
    draft = form_version_import(data=exported)
    assert draft.service.slug == "neu" and draft.status == FormVersion.Status.DRAFT
    with pytest.raises(FormVersionError):
        form_version_import(data={"format": "other"})
    with pytest.raises(FormVersionError):
        form_version_import(data={**exported, "definition": {"schema_version": 1}})


def test_export_contains_service_metadata():
    catalogue_load()
    version = FormVersion.objects.get(service__slug="gewerbe-anmeldung")
    exported = form_version_export(version=version)
    assert exported["service"]["leistungsschluessel"] == "99050012104000"
    assert exported["version"]["checksum"] == version.checksum


def test_export_form_defaults_to_the_published_version_and_reports_unknown_slugs(capsys, tmp_path):
    catalogue_load()
    call_command("export_form", "reisepass")
    exported = json.loads(capsys.readouterr().out)
    assert (
        exported["service"]["slug"] == "reisepass" and exported["version"]["status"] == "published"
    )
    with pytest.raises(CommandError, match="no form version"):
        call_command("export_form", "gibt-es-nicht")
    with pytest.raises(CommandError, match="no form version"):
        call_command("export_form", "reisepass", "--version", "99")
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2")
    with pytest.raises(CommandError, match="cannot read"):
        call_command("import_form", str(bad))
    broken = {"format": "thueringen-portal/form-version@1", "service": {"slug": "x"}}
    broken["definition"] = {"schema_version": 1, "steps": "nope"}
    bad.write_text(json.dumps(broken))
    with pytest.raises(CommandError, match="steps"):
        call_command("import_form", str(bad))


def test_oversized_or_non_json_definitions_are_refused():
    huge = definition(field("a", "text"))
    huge["steps"][0]["fields"] = [field(f"f{i}", "text", help=T("x" * 1999)) for i in range(80)]
    many = {"schema_version": 1, "steps": [dict(huge["steps"][0], id=f"s{i}") for i in range(10)]}
    assert definition_errors(many)[0].message.startswith("definition too large")
    assert definition_errors({"x": object()})[0].message == "not JSON data"


@pytest.mark.parametrize("days", [0, 364, -1, "3650", True, 36.5])
def test_catalogue_file_or_import_with_retention_below_the_minimum_is_refused(tmp_path, days):
    data = json.loads((CATALOGUE / "reisepass.json").read_text())
    data["service"]["retention_days"] = days
    (tmp_path / "reisepass.json").write_text(json.dumps(data))
    report = catalogue_load(path=tmp_path)
    assert "reisepass.json" in report.failed
    assert any("retention_days" in problem for problem in report.failed["reisepass.json"])
    assert not Service.objects.filter(slug="reisepass").exists()
    exported = {
        "format": "thueringen-portal/form-version@1",
        "service": {"slug": "kurz", "name_de": "Kurz", "name_en": "Short", "retention_days": days},
        "definition": definition(field("a", "text")),
    }
    with pytest.raises(FormVersionError, match="retention_days"):
        form_version_import(data=exported)
    assert not Service.objects.filter(slug="kurz").exists()
