"""Fixtures of the submissions tests: a form, an office, a draft, local outside systems."""

from __future__ import annotations

import datetime
import hashlib
import secrets

import pytest
from django.utils import timezone

from municipalities.models import ResponsibilityRule
from submissions.models import Draft
from tests.factories import FormVersionFactory, GemeindeFactory, OfficeFactory, ServiceFactory
from tests.support.fitconnect import fitconnect, fitconnect_keys  # noqa: F401 - fixtures
from tests.support.webhook import webhook_receiver  # noqa: F401 - fixture

# A small form definition in the catalogue's format (two steps).
DEFINITION = {
    "schema_version": 1,
    "steps": [
        {
            "id": "person",
            "title": {"de": "Angaben zur Person", "en": "About you"},
            "fields": [
                {
                    "id": "name",
                    "type": "text",
                    "role": "applicant_name",
                    "label": {"de": "Name", "en": "Name"},
                },
                {
                    "id": "email",
                    "type": "email",
                    "role": "applicant_email",
                    "label": {"de": "E-Mail", "en": "E-mail"},
                },
            ],
        },
        {
            "id": "details",
            "title": {"de": "Angaben zum Anliegen", "en": "Details"},
            "fields": [
                {
                    "id": "description",
                    "type": "textarea",
                    "max_length": 10000,
                    "label": {"de": "Beschreibung", "en": "Description"},
                },
                {
                    "id": "proof",
                    "type": "file",
                    "required": False,
                    "multiple": True,
                    "label": {"de": "Nachweis", "en": "Proof"},
                },
            ],
        },
    ],
}


def make_answers(**extra) -> dict:
    answers = {
        "name": "Erika Mustermann",
        "email": "erika@example.org",
        "description": "Ein Hund namens Bello, Rasse: Dackel.",
    }
    answers.update(extra)
    return answers


@pytest.fixture
def office_setup(db):
    """A Gemeinde whose municipal administration (its VG office) handles the service."""
    service = ServiceFactory(slug="hundeanmeldung", name_de="Hundeanmeldung", name_en="Dog")
    version = FormVersionFactory(service=service, definition=DEFINITION)
    gemeinde = GemeindeFactory(name="Rhönblick")
    office = OfficeFactory(
        name="VG Teststadt",
        verband=gemeinde.verband,
        street="Markt 1",
        postcode="98631",
        city="Teststadt",
    )
    ResponsibilityRule.objects.create(
        service=service, level=ResponsibilityRule.Level.MUNICIPAL_ADMINISTRATION
    )
    return {"service": service, "version": version, "gemeinde": gemeinde, "office": office}


def make_draft(setup: dict, *, data: dict | None = None) -> Draft:
    return Draft.objects.create(
        token_hash=hashlib.sha256(secrets.token_bytes(16)).hexdigest(),
        service=setup["service"],
        form_version=setup["version"],
        gemeinde=setup["gemeinde"],
        data=data or make_answers(),
        expires_at=timezone.now() + datetime.timedelta(days=30),
    )
