"""Small catalogue definitions and data for the citizen page tests.

Once the catalogue files are loaded (`load_catalogue`), the browser tests use
the real forms; these small definitions keep the view tests fast and focused.
"""

from __future__ import annotations

from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from forms_catalog.models import FormVersion, Service
from municipalities.models import Gemeinde, Gemeindeverband, Office, ResponsibilityRule
from tests.factories import (
    FormVersionFactory,
    GemeindeFactory,
    GemeindeverbandFactory,
    KreisFactory,
    OfficeFactory,
)

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 64


def t(de: str, en: str) -> dict[str, str]:
    return {"de": de, "en": en}


SMALL_DEFINITION: dict[str, Any] = {
    "schema_version": 1,
    "steps": [
        {
            "id": "halter",
            "title": t("Angaben zur Person", "About you"),
            "fields": [
                {
                    "id": "vorname",
                    "type": "text",
                    "label": t("Vorname", "Given name"),
                    "required": True,
                    "role": "applicant_given_name",
                    "autocomplete": "given-name",
                },
                {
                    "id": "nachname",
                    "type": "text",
                    "label": t("Nachname", "Surname"),
                    "required": True,
                    "role": "applicant_name",
                    "autocomplete": "family-name",
                },
                {
                    "id": "email",
                    "type": "email",
                    "label": t("E-Mail-Adresse", "Email address"),
                    "required": True,
                    "role": "applicant_email",
                },
            ],
        },
        {
            "id": "hund",
            "title": t("Angaben zum Hund", "About the dog"),
            "fields": [
                {"id": "hundename", "type": "text", "label": t("Name des Hundes", "Dog's name")},
                {
                    "id": "gefaehrlich",
                    "type": "yesno",
                    "label": t("Ist der Hund gefährlich?", "Is the dog dangerous?"),
                    "required": True,
                },
            ],
        },
        {
            "id": "gefahr",
            "title": t("Gefährlicher Hund", "Dangerous dog"),
            "visible_if": {"eq": [{"field": "gefaehrlich"}, True]},
            "fields": [
                {
                    "id": "gutachten",
                    "type": "text",
                    "label": t("Aktenzeichen des Gutachtens", "Report reference"),
                    "required": True,
                }
            ],
        },
        {
            "id": "nachweise",
            "title": t("Nachweise", "Documents"),
            "fields": [
                {
                    "id": "versicherung",
                    "type": "file",
                    "label": t("Nachweis der Haftpflichtversicherung", "Liability insurance"),
                    "required": True,
                    "extensions": ["pdf", "png", "jpg"],
                },
                {
                    "id": "rueckfragen",
                    "type": "email",
                    "label": t("E-Mail für Rückfragen", "Email for questions"),
                },
            ],
        },
    ],
}


def publish(definition: dict[str, Any] | None = None, slug: str = "hundeanmeldung") -> FormVersion:
    service, _ = Service.objects.get_or_create(
        slug=slug, defaults={"name_de": "Hundeanmeldung", "name_en": "Dog registration"}
    )
    number = (
        service.versions.order_by("-number").values_list("number", flat=True).first() or 0
    ) + 1
    return FormVersionFactory(
        service=service, number=number, definition=definition or SMALL_DEFINITION
    )


def municipality(name: str, office_name: str) -> tuple[Gemeinde, Office]:
    verband: Gemeindeverband = GemeindeverbandFactory(
        kreis=KreisFactory(), kind=Gemeindeverband.Kind.VERBANDSFREI, name=name
    )
    gemeinde = GemeindeFactory(verband=verband, name=name)
    office = OfficeFactory(name=office_name, verband=verband, city=name)
    return gemeinde, office


def municipal_rule(service: Service) -> None:
    ResponsibilityRule.objects.get_or_create(
        service=service, defaults={"level": ResponsibilityRule.Level.MUNICIPAL_ADMINISTRATION}
    )


def pdf_upload(name: str = "versicherung.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")
