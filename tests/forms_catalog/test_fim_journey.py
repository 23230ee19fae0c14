"""Imported FIM forms, once published, are filed by a citizen; the office's JSON carries FIM ids."""

from __future__ import annotations

import json
import re

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile

from forms_catalog.fim.services import fim_schema_import
from forms_catalog.models import Service
from forms_catalog.selectors import compiled_form
from forms_catalog.services import form_version_publish_system
from submissions.models import Draft, Submission
from submissions.pdf import export_json
from tests.citizen.citizen_support import municipal_rule, municipality
from tests.forms_catalog.fim_support import GENERICODE_SAMPLE, XDF2_SAMPLE, XDF3_SAMPLE, sample

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

PERSON = {
    "familienname": "Mustermann",
    "vornamen": "Erika",
    "geburtsdatum": "1980-02-29",
    "strasse": "Markt",
    "hausnummer": "1",
    "postleitzahl": "98631",
    "ort": "Rhönblick",
    "e_mail_adresse": "erika@example.org",
}
DOG = {
    "name_des_hundes": "Bello",
    "transpondernummer": "276098100123456",
    "wurfdatum": "2024-05-01",
    "rasse": "Mischling",
    "geschlecht_des_hundes": "wk",
    "beginn_der_haltung": "2026-11-01",
    "gefaehrlicher_hund": False,
}


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()


def answers_for(version) -> dict:
    """Answers for every step of an imported Hundesteuer form (v2 and v3 samples)."""
    answers: dict = dict(PERSON)
    for step in version.definition["steps"]:
        for item in step["fields"]:
            if item.get("type") == "group" and item.get("repeatable"):
                dog = {k: v for k, v in DOG.items() if k in {f["id"] for f in item["fields"]}}
                answers[item["id"]] = [dog, {**dog, "name_des_hundes": "Rex"}]
    answers["richtigkeit_der_angaben"] = True
    return answers


def file_through_citizen_views(client, version, gemeinde) -> Submission:
    slug = version.service.slug
    response = client.post(f"/gemeinden/{gemeinde.ags}/leistungen/{slug}/")
    assert response.status_code == 302, response.content[:500]
    draft_id = re.search(r"/antrag/([0-9a-f-]{36})/", response["Location"]).group(1)
    draft = Draft.objects.get(id=draft_id)
    compiled = compiled_form(version=version)
    answers = answers_for(version)
    steps = {s["id"]: s for s in version.definition["steps"]}
    for step in compiled.steps:
        data = compiled.form_data(step.id, answers, prefix=step.id)
        for item in steps[step.id]["fields"]:
            if item.get("type") == "file":
                data[f"{step.id}-{item['id']}"] = SimpleUploadedFile(
                    "versicherung.pdf", PDF, content_type="application/pdf"
                )
        response = client.post(f"/antrag/{draft.id}/schritt/{step.id}/", data)
        assert response.status_code == 302, response.content.decode()[:3000]
    assert response["Location"] == f"/antrag/{draft.id}/pruefen/"
    check = client.get(f"/antrag/{draft.id}/pruefen/").content.decode()
    assert "Bello" in check and "Rex" in check and "Hündin, kastriert" in check
    response = client.post(f"/antrag/{draft.id}/pruefen/", {"declaration": "on"})
    assert response.status_code == 302
    return Submission.objects.get()


@pytest.mark.parametrize(
    ("path", "codelists"),
    [(XDF2_SAMPLE, [GENERICODE_SAMPLE]), (XDF3_SAMPLE, [])],
    ids=["xdf2", "xdf3"],
)
def test_imported_sample_is_published_and_filed_with_fim_ids_in_the_office_json(
    client, path, codelists
):
    version = fim_schema_import(
        schema=sample(path),
        codelists=[(p.name, sample(p)) for p in codelists],
        service_slug="hundesteuer",
    ).version
    form_version_publish_system(version=version)
    # A service the import created stays hidden until the editor activates it.
    gemeinde, _office = municipality("Rhönblick", "Gemeindeverwaltung Rhönblick")
    assert client.get(f"/gemeinden/{gemeinde.ags}/leistungen/hundesteuer/").status_code == 404
    Service.objects.filter(pk=version.service_id).update(is_active=True)
    municipal_rule(version.service)
    submission = file_through_citizen_views(client, version, gemeinde)
    assert submission.form_version == version
    assert submission.answers["familienname"] == "Mustermann"
    dogs = next(
        f["id"] for s in version.definition["steps"] for f in s["fields"] if f.get("repeatable")
    )
    assert [d["name_des_hundes"] for d in submission.answers[dogs]] == ["Bello", "Rex"]
    document = json.loads(export_json(submission))
    fields = {f["path"]: f for f in document["answers"]["fields"]}
    assert fields["familienname"]["fim"] == {
        "id": "F60000000227",
        "version": "1.1" if path == XDF2_SAMPLE else "1.0.0",
    }
    dog_paths = [p for p in fields if p.endswith(".transpondernummer")]
    assert len(dog_paths) == 2
    assert all(fields[p]["fim"]["id"] == "F99000021" for p in dog_paths)
    sex = fields[dog_paths[0].replace("transpondernummer", "geschlecht_des_hundes")]
    assert sex["fim"]["id"] == "F99000024" and sex["value"] == "wk"
    if path == XDF2_SAMPLE:
        assert fields["versicherungsnachweis"]["fim"]["id"] == "F99000027"
        assert submission.attachments.count() == 1
