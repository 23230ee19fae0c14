"""Reusable blocks: expansion, unique ids, immutable published versions, new drafts on a
block change (not for withdrawn services), a citizen filing a form with blocks, the PDF, the
JSON and FIM exports."""

from __future__ import annotations

import copy
import io
import json
import re

import pypdf
import pytest
from defusedxml.ElementTree import fromstring
from django.core.management import call_command

from forms_catalog.block_services import (
    BlockError,
    block_catalogue_load,
    block_content_errors,
    block_published_version,
    block_reference_insert,
    block_usages,
    block_version_approve,
    block_version_create_draft,
    block_version_request_changes,
    block_version_submit_for_review,
    block_version_update_draft,
)
from forms_catalog.blocks import block_expand
from forms_catalog.checks import definition_errors
from forms_catalog.fim.services import form_version_export_fim
from forms_catalog.fim.xdf_read import NS_XDF3
from forms_catalog.models import Block, BlockVersion, FormVersion
from forms_catalog.selectors import compiled_form, export_answers, published_version
from forms_catalog.services import (
    form_version_create_draft,
    form_version_publish_system,
    form_version_retire,
    form_version_submit_for_review,
)
from submissions.models import Draft, Submission
from submissions.pdf import render_office_copy
from tests.citizen.citizen_support import municipal_rule, municipality
from tests.factories import FormEditorFactory, ServiceFactory
from tests.forms_catalog.helpers import T, definition, field

pytestmark = pytest.mark.django_db


@pytest.fixture
def library():
    report = block_catalogue_load()
    assert not report.failed, report.failed
    return {b.slug: b for b in Block.objects.all()}


def form_with_blocks(library, *, slug="antrag", blocks=(("person", "antragsteller"),)):
    """A published form (system action) whose first step holds the given blocks."""
    service = ServiceFactory(slug=slug)
    editor = FormEditorFactory()
    draft = form_version_create_draft(
        service=service, definition=definition(field("anliegen", "text"))
    )
    for block_slug, group_id in blocks:
        draft = block_reference_insert(
            version=draft, user=editor, step_id="s", block=library[block_slug], group_id=group_id
        )
    form_version_publish_system(version=draft, note="mit Bausteinen")
    return draft


def new_block_version(block, *, author, reviewer, change):
    """Publish a changed block version through the review; returns the approval's report."""
    draft = block_version_create_draft(block=block, user=author)
    content = copy.deepcopy(draft.content)
    change(content)
    block_version_update_draft(version=draft, user=author, content=content)
    block_version_submit_for_review(version=draft, user=author, note="Geburtsort ergänzt")
    return block_version_approve(version=draft, user=reviewer)


def add_birthplace(content):
    content["fields"].append(
        {"id": "geburtsort", "type": "text", "required": True, "label": T("Geburtsort", "Place")}
    )


def test_catalogue_seeds_the_library_once(library):
    assert {"person", "anschrift-de", "bankverbindung", "kontakt"} <= set(library)
    person = block_published_version(block=library["person"])
    assert [f["id"] for f in person.content["fields"]] == ["name", "vorname", "geburtsdatum"]
    address = block_published_version(block=library["anschrift-de"])
    assert [f["id"] for f in address.content["fields"]] == ["strasse", "hausnummer", "plz", "ort"]
    again = block_catalogue_load()
    assert again.published == [] and len(again.unchanged) == len(library)
    assert BlockVersion.objects.count() == len(library)


def test_load_catalogue_command_loads_blocks_before_the_forms(capsys):
    call_command("load_catalogue")
    out = capsys.readouterr().out
    assert "published block person v1" in out
    assert Block.objects.filter(slug="kontakt").exists()


def test_two_uses_of_one_block_get_prefixed_unique_ids_and_compile(library):
    version = form_with_blocks(
        library, blocks=(("person", "antragsteller"), ("person", "ehegatte"))
    )
    group_ids = [item["id"] for item in version.definition["steps"][0]["fields"]]
    assert group_ids == ["anliegen", "antragsteller", "ehegatte"]
    compiled = compiled_form(version=version)
    assert {"antragsteller_name", "ehegatte_name", "ehegatte_geburtsdatum"} <= set(
        compiled.definition.fields
    )
    assert compiled.definition.groups["ehegatte"].raw["block"] == {"slug": "person", "version": 1}
    assert definition_errors(version.definition) == []


def test_insert_refuses_taken_ids_bad_ids_non_drafts_and_unpublished_blocks(library):
    editor = FormEditorFactory()
    version = form_with_blocks(library)
    draft = form_version_create_draft(service=version.service, user=editor)
    with pytest.raises(BlockError, match="schon vergeben"):
        block_reference_insert(
            version=draft,
            user=editor,
            step_id="s",
            block=library["person"],
            group_id="antragsteller",
        )
    with pytest.raises(BlockError, match="schon vergeben"):
        # "anliegen" is a field of the form already.
        block_reference_insert(
            version=draft, user=editor, step_id="s", block=library["kontakt"], group_id="anliegen"
        )
    with pytest.raises(BlockError, match="Kleinbuchstaben"):
        block_reference_insert(
            version=draft, user=editor, step_id="s", block=library["kontakt"], group_id="X; drop"
        )
    with pytest.raises(BlockError, match="länger als 63"):
        block_reference_insert(
            version=draft, user=editor, step_id="s", block=library["kontakt"], group_id="k" * 60
        )
    with pytest.raises(BlockError, match="Schritt"):
        block_reference_insert(
            version=draft, user=editor, step_id="nope", block=library["kontakt"], group_id="k"
        )
    with pytest.raises(BlockError, match="nur in einen Entwurf"):
        block_reference_insert(
            version=version, user=editor, step_id="s", block=library["kontakt"], group_id="k"
        )
    unpublished = Block.objects.create(slug="neu", name_de="Neu", name_en="New")
    with pytest.raises(BlockError, match="noch nicht veröffentlicht"):
        block_reference_insert(
            version=draft, user=editor, step_id="s", block=unpublished, group_id="k"
        )
    draft.refresh_from_db()
    assert [i["id"] for i in draft.definition["steps"][0]["fields"]] == [
        "anliegen",
        "antragsteller",
    ]


def test_definition_errors_inside_a_block_name_the_block(library):
    content = copy.deepcopy(block_published_version(block=library["person"]).content)
    content["fields"][0]["autocomplete"] = "kein-token"
    group = block_expand(group_id="antragsteller", slug="person", number=1, content=content)
    errors = definition_errors(definition(group))
    assert errors and all("Baustein „person“ Version 1" in e.message for e in errors)
    assert "Gruppe „antragsteller“" in errors[0].message


def test_block_content_errors_name_the_field_in_german():
    problems = block_content_errors(
        content={
            "label": T("Person"),
            "fields": [
                field("name", "text"),
                field("name", "text"),
                {**field("x", "text"), "visible_if": {"filled": "name"}},
            ],
        }
    )
    assert any("Feld 2: Die Kennung „name“ kommt doppelt vor." in p for p in problems)
    assert any("Feld 3 („x“)" in p and "visible_if" in p for p in problems)
    problems = block_content_errors(
        content={"label": T("P"), "fields": [field("n", "text", autocomplete="kaputt")]}
    )
    assert problems and problems[0].startswith("Feld 1 („n“)")
    assert block_content_errors(content={"label": T("P"), "fields": []}) == [
        "Ein Baustein braucht mindestens ein Feld."
    ]


def test_block_change_makes_new_drafts_and_never_changes_published_versions(library):
    author, reviewer = FormEditorFactory(), FormEditorFactory()
    v1 = form_with_blocks(library, blocks=(("person", "antragsteller"), ("person", "kind")))
    frozen = json.dumps(v1.definition, sort_keys=True)
    checksum = v1.checksum
    report = new_block_version(
        library["person"], author=author, reviewer=reviewer, change=add_birthplace
    )
    v1.refresh_from_db()
    assert json.dumps(v1.definition, sort_keys=True) == frozen and v1.checksum == checksum
    assert published_version(service=v1.service) == v1  # nothing reaches citizens by itself
    [draft] = report.drafts_created
    assert draft.status == FormVersion.Status.DRAFT and draft.number == 2
    assert draft.author is None  # a system action: any two editors can review it
    assert "Baustein „Person“ auf Version 2 aktualisiert: Geburtsort ergänzt" in draft.change_note
    groups = {g["id"]: g for g in draft.definition["steps"][0]["fields"]}
    assert groups["kind"]["block"] == {"slug": "person", "version": 2}
    assert [f["id"] for f in groups["kind"]["fields"]][-1] == "kind_geburtsort"
    assert definition_errors(draft.definition) == []
    # The draft goes through the normal form review.
    form_version_submit_for_review(version=draft, user=author, note=draft.change_note)
    # The old block version is retired and immutable; the new one too, once published.
    old = BlockVersion.objects.get(block=library["person"], number=1)
    assert old.status == BlockVersion.Status.RETIRED
    for version in (old, block_published_version(block=library["person"])):
        with pytest.raises(BlockError, match="unveränderlich"):
            block_version_update_draft(version=version, user=author, content={"fields": []})


def test_a_block_change_updates_an_open_draft_and_leaves_versions_in_review_alone(library):
    author, reviewer = FormEditorFactory(), FormEditorFactory()
    drafted = form_with_blocks(library, slug="mit-entwurf")
    open_draft = form_version_create_draft(service=drafted.service, user=author)
    reviewed = form_with_blocks(library, slug="in-pruefung")
    in_review = form_version_create_draft(service=reviewed.service, user=author)
    form_version_submit_for_review(version=in_review, user=author, note="unterwegs")
    report = new_block_version(
        library["person"], author=author, reviewer=reviewer, change=add_birthplace
    )
    assert [v.pk for v in report.drafts_updated] == [open_draft.pk]
    assert [v.pk for v in report.skipped] == [in_review.pk]
    assert report.drafts_created == []
    open_draft.refresh_from_db()
    assert "antragsteller_geburtsort" in json.dumps(open_draft.definition)
    in_review.refresh_from_db()
    assert "geburtsort" not in json.dumps(in_review.definition)


def test_no_new_drafts_for_withdrawn_or_inactive_services_or_forms_without_the_block(library):
    author, reviewer = FormEditorFactory(), FormEditorFactory()
    withdrawn = form_with_blocks(library, slug="zurueckgezogen")
    form_version_retire(version=withdrawn)
    inactive = form_with_blocks(library, slug="inaktiv")
    inactive.service.is_active = False
    inactive.service.save()
    other_block = form_with_blocks(library, slug="nur-kontakt", blocks=(("kontakt", "kontakt"),))
    report = new_block_version(
        library["person"], author=author, reviewer=reviewer, change=add_birthplace
    )
    assert report.drafts_created == [] and report.drafts_updated == []
    for version in (withdrawn, inactive, other_block):
        assert FormVersion.objects.filter(service=version.service).count() == 1
    usages = block_usages(block=library["person"])
    assert {u.version.service.slug for u in usages} == {"zurueckgezogen", "inaktiv"}


def test_block_review_needs_a_second_editor_and_a_note(library):
    author, reviewer = FormEditorFactory(), FormEditorFactory()
    draft = block_version_create_draft(block=library["kontakt"], user=author)
    with pytest.raises(BlockError, match="bereits einen Entwurf"):
        block_version_create_draft(block=library["kontakt"], user=reviewer)
    with pytest.raises(BlockError, match="Änderungshinweis"):
        block_version_submit_for_review(version=draft, user=author, note="  ")
    block_version_submit_for_review(version=draft, user=author, note="gleich")
    with pytest.raises(BlockError, match="Vier-Augen"):
        block_version_approve(version=draft, user=author)
    block_version_request_changes(version=draft, user=reviewer, reason="Bitte Fax ergänzen")
    draft.refresh_from_db()
    assert draft.status == BlockVersion.Status.DRAFT
    broken = copy.deepcopy(draft.content)
    broken["fields"].append({"id": "fax", "type": "gibtsnicht", "label": T("Fax")})
    block_version_update_draft(version=draft, user=reviewer, content=broken)
    with pytest.raises(BlockError, match="enthält Fehler"):
        block_version_submit_for_review(version=draft, user=reviewer, note="Fax")
    # Nobody without the editor permission.
    from tests.factories import UserFactory

    with pytest.raises(BlockError):
        block_version_create_draft(block=library["person"], user=UserFactory())


def test_citizen_files_a_form_with_blocks_and_the_json_export_has_the_fields(client, library):
    version = form_with_blocks(
        library, slug="antrag", blocks=(("person", "antragsteller"), ("kontakt", "kontakt"))
    )
    municipal_rule(version.service)
    gemeinde, _office = municipality("Rhönblick", "Gemeindeverwaltung Rhönblick")
    response = client.post(f"/gemeinden/{gemeinde.ags}/leistungen/antrag/")
    assert response.status_code == 302
    draft = Draft.objects.get(id=re.search(r"/antrag/([0-9a-f-]{36})/", response["Location"])[1])
    url = f"/antrag/{draft.id}/schritt/s/"
    page = client.get(url).content.decode()
    assert "Person" in page and 'name="s-antragsteller_vorname"' in page
    data = {
        "s-anliegen": "Bitte bearbeiten",
        "s-antragsteller_name": "Mustermann",
        "s-antragsteller_vorname": "Erika",
        "s-antragsteller_geburtsdatum_0": "",
        "s-kontakt_email": "erika@example.org",
    }
    # A missing answer inside the block is reported at its field, nothing typed is lost.
    response = client.post(url, data)
    body = response.content.decode()
    assert response.status_code == 200 and 'value="Erika"' in body
    assert "Geburtsdatum" in body
    data.pop("s-antragsteller_geburtsdatum_0")
    data.update(
        {
            "s-antragsteller_geburtsdatum_day": "3",
            "s-antragsteller_geburtsdatum_month": "4",
            "s-antragsteller_geburtsdatum_year": "1980",
        }
    )
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    check = client.get(f"/antrag/{draft.id}/pruefen/").content.decode()
    assert "Mustermann" in check and "03.04.1980" in check
    response = client.post(f"/antrag/{draft.id}/pruefen/", {"declaration": "on"})
    assert response.status_code == 302
    submission = Submission.objects.get()
    assert submission.answers["antragsteller_vorname"] == "Erika"
    assert submission.answers["antragsteller_geburtsdatum"] == "1980-04-03"
    # The office copy (WeasyPrint) prints the block's fields with their labels.
    text = "".join(
        page.extract_text() for page in pypdf.PdfReader(io.BytesIO(render_office_copy(
            submission=submission))).pages
    )  # fmt: skip
    assert "Vorname" in text and "Erika" in text and "03.04.1980" in text
    exported = export_answers(version=version, answers=submission.answers)
    paths = {f["path"]: f for f in exported["fields"]}
    assert paths["antragsteller_name"]["value"] == "Mustermann"
    assert paths["kontakt_email"]["label"]["de"] == "E-Mail-Adresse"


def test_fim_export_of_a_form_with_a_block_has_the_expanded_fields(library):
    version = form_with_blocks(
        library, blocks=(("person", "antragsteller"), ("anschrift-de", "anschrift"))
    )
    data, _report = form_version_export_fim(version=version)
    root = fromstring(data)
    ids = {element.text for element in root.iter(f"{{{NS_XDF3}}}name")}
    labels = [element.text for element in root.iter(f"{{{NS_XDF3}}}bezeichnungEingabe")]
    for label in ("Person", "Name", "Vorname", "Geburtsdatum", "Anschrift", "Postleitzahl"):
        assert label in labels, (label, labels)
    assert {"antragsteller", "antragsteller_geburtsdatum", "anschrift_plz"} <= ids
