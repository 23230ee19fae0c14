"""Exactly what was checked is sent: answers hidden by the final answers are never stored."""

from __future__ import annotations

import hashlib
import json
import secrets
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from citizen.drafts import draft_purge_expired
from forms_catalog.models import Service
from forms_catalog.selectors import compiled_form, published_version, summarize
from forms_catalog.services import catalogue_load
from municipalities.models import ResponsibilityRule
from submissions.models import Attachment, Draft
from submissions.services import submission_submit
from tests.factories import GemeindeFactory, OfficeFactory

CATALOGUE = Path(__file__).resolve().parents[2] / "forms_catalog" / "catalogue"
CONDITIONAL = sorted(p.stem for p in CATALOGUE.glob("*.json") if "visible_if" in p.read_text())


def _draft_for(slug: str, answers: dict) -> Draft:
    catalogue_load()
    service = Service.objects.get(slug=slug)
    gemeinde = GemeindeFactory(name="Rhönblick")
    OfficeFactory(name="VG Grabfeld", verband=gemeinde.verband)
    ResponsibilityRule.objects.get_or_create(
        service=service, defaults={"level": ResponsibilityRule.Level.MUNICIPAL_ADMINISTRATION}
    )
    return Draft.objects.create(
        token_hash=hashlib.sha256(secrets.token_bytes(16)).hexdigest(),
        service=service,
        form_version=published_version(service=service),
        gemeinde=gemeinde,
        data={"answers": answers},
        expires_at=timezone.now() + timezone.timedelta(days=30),
    )


def _pdf(draft: Draft, field: str, name: str) -> Attachment:
    content = b"%PDF-1.4 Sicherheitskonzept"
    return Attachment.objects.create(
        draft=draft,
        field_path=field,
        file=ContentFile(content, name="upload"),
        original_name=name,
        content_type="application/pdf",
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
    )


def test_every_catalogue_service_with_a_condition_is_covered():
    assert {"bauantrag", "hundeanmeldung", "veranstaltungsanmeldung"} <= set(CONDITIONAL)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("slug", CONDITIONAL)
def test_stored_answers_equal_what_the_check_page_showed(slug):
    # Every field answered, also the ones a condition hides now (stale answers
    # of an earlier choice, as after going back from the check page), with
    # hostile text among them.
    catalogue_load()
    compiled = compiled_form(version=published_version(service=Service.objects.get(slug=slug)))
    answers = {spec.id: "<b>x</b>\u202e" for spec in compiled.definition.fields.values()}
    draft = _draft_for(slug, answers)
    shown = compiled.visible_answers(answers)
    assert set(shown) < set(answers), "the test needs at least one hidden answer"
    check_page = summarize(version=draft.form_version, answers=answers, language="de")

    submission, _secret = submission_submit(draft=draft, answers=answers, language="de")

    submission.refresh_from_db()
    assert submission.answers == shown
    assert not set(submission.answers) & (set(answers) - set(shown))
    stored = summarize(version=submission.form_version, answers=submission.answers, language="de")
    assert stored == check_page


@pytest.mark.django_db(transaction=True)
def test_lowering_the_visitor_number_drops_the_safety_concept_and_its_file():
    draft = _draft_for("veranstaltungsanmeldung", {})
    concept = _pdf(draft, "security_concept", "Sicherheitskonzept.pdf")
    answers = {
        "title": "Dorffest Wölfershausen",
        "expected_visitors": 800,  # lowered on the check page from 2500
        "security_concept": [
            {
                "attachment_id": str(concept.id),
                "name": concept.original_name,
                "size": concept.size,
                "content_type": concept.content_type,
            }
        ],
    }
    draft.data = {"answers": answers}
    draft.save()

    submission, _secret = submission_submit(draft=draft, answers=answers, language="de")

    submission.refresh_from_db()
    assert "security_concept" not in submission.answers
    assert "Sicherheitskonzept" not in json.dumps(submission.answers)
    assert submission.answers["expected_visitors"] == 800
    concept.refresh_from_db()
    assert concept.submission_id is None
    assert concept.draft_id == draft.id
    assert not submission.attachments.exists()
    # The pruned file goes with the draft: row and stored object.
    stored_name = concept.file.name
    assert concept.file.storage.exists(stored_name)
    draft_purge_expired(now=timezone.now() + timezone.timedelta(days=365))
    assert not Attachment.objects.filter(id=concept.id).exists()
    assert not concept.file.storage.exists(stored_name)
