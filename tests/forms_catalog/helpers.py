"""Definitions, uploads and POST data shared by the form catalogue tests."""

from __future__ import annotations

import copy
import datetime
import json
import uuid
from pathlib import Path
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from forms_catalog.compiler import CompiledForm

CATALOGUE = Path(__file__).resolve().parents[2] / "forms_catalog" / "catalogue"
TODAY = datetime.date(2026, 11, 22)

PDF_BYTES = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG_BYTES = b"\xff\xd8\xff\xe0" + b"\x00" * 64
EXE_BYTES = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 64
HTML_BYTES = b"<html><script>alert(1)</script></html>"


def T(de: str, en: str | None = None) -> dict[str, str]:
    return {"de": de, "en": en or de}


def field(fid: str, kind: str, required: bool = True, **extra: Any) -> dict[str, Any]:
    return {
        "id": fid,
        "type": kind,
        "label": T(f"Feld {fid}", f"Field {fid}"),
        "required": required,
        **extra,
    }


def options(*values: str) -> list[dict[str, Any]]:
    return [{"value": v, "label": T(f"Option {v}")} for v in values]


def definition(*fields: dict[str, Any], rules: list | None = None, **extra: Any) -> dict[str, Any]:
    step: dict[str, Any] = {"id": "s", "title": T("Schritt", "Step"), "fields": list(fields)}
    if rules:
        step["rules"] = rules
    return {"schema_version": 1, "steps": [step], **extra}


def step_form(
    defn: dict[str, Any],
    data: dict[str, Any] | None,
    *,
    step: str = "s",
    answers: dict | None = None,
    files: dict | None = None,
    language: str = "de",
):
    compiled = CompiledForm(defn)
    return compiled.form_class(step)(
        data=data, files=files, answers=answers or {}, language=language, today=TODAY
    )


def pdf(name: str = "nachweis.pdf", content: bytes = PDF_BYTES) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def attachment(name: str = "nachweis.pdf", size: int = 1234, content_type: str = "application/pdf"):
    return {
        "attachment_id": str(uuid.uuid4()),
        "name": name,
        "size": size,
        "content_type": content_type,
    }


def store_upload(field_id: str, upload: Any, content_type: str) -> dict[str, Any]:
    """Stands in for the wizard's Attachment creation: returns the answer entry."""
    return {
        "attachment_id": str(uuid.uuid4()),
        "name": upload.portal_name,
        "size": upload.size,
        "content_type": content_type,
    }


def catalogue(slug: str) -> dict[str, Any]:
    return json.loads((CATALOGUE / f"{slug}.json").read_text(encoding="utf-8"))


def catalogue_definition(slug: str) -> dict[str, Any]:
    return copy.deepcopy(catalogue(slug)["definition"])


# Shared by the step form, visibility, render and compiler tests.
CHOICE = field("kind", "choice", options=options("a", "other"))
OTHER = field("other", "text", visible_if={"eq": [{"field": "kind"}, "other"]})
DOGS = {
    "id": "dogs",
    "type": "group",
    "label": T("Hunde", "Dogs"),
    "repeatable": True,
    "min": 1,
    "max": 3,
    "item_label": T("Hund", "Dog"),
    "fields": [
        field("name", "text"),
        field("dangerous", "yesno"),
        field("permit", "text", visible_if={"eq": [{"field": "dangerous"}, True]}),
    ],
}


def d(iso: str, name: str) -> dict[str, str]:
    """The three inputs of a date field named `name`, from an ISO date."""
    year, month, day = iso.split("-")
    return {f"{name}_day": day, f"{name}_month": month, f"{name}_year": year}


# A Gewerbe-Anmeldung of a GmbH's branch with a permit and a residence title (two uploads).
GEWERBE_GMBH_PAGES = {
    "betrieb": {
        "legal_form": "gmbh",
        "company_name": "Schneider Feinkost GmbH",
        "register_type": "HRB",
        "register_court": "Amtsgericht Jena",
        "register_number": "512345",
        "legal_representatives": "2",
    },
    "person": {
        "surname": "Schneider",
        "given_names": "Anna Maria",
        "sex": "weiblich",
        **d("1984-05-17", "birth_date"),
        "birth_place": "Kyjiw",
        "birth_country": "Ukraine",
        "nationality": "drittstaat",
        "nationality_other": "ukrainisch",
        "home_street": "Anger 12",
        "home_postcode": "99084",
        "home_city": "Erfurt",
        "phone": "0361 5551234",
        "email": "anna.schneider@example.de",
    },
    "betriebsstaette": {
        "site_street": "Marktstraße 3",
        "site_postcode": "99423",
        "site_city": "Weimar",
        "site_phone": "03643 12345",
        "establishment": "zweigniederlassung",
        "head_street": "Anger 12",
        "head_postcode": "99084",
        "head_city": "Erfurt",
        "manager_name": "Schneider, Anna Maria",
    },
    "taetigkeit": {
        "activity": "Einzelhandel mit Feinkost, Wein und Spirituosen",
        "side_business": "no",
        **d("2026-12-01", "start_date"),
        "business_kind": ["handel"],
        "staff_fulltime": "2",
        "staff_parttime": "1",
    },
    "anlass": {
        "reason": "uebernahme",
        "takeover_kind": "pacht",
        "former_operator": "Weinhandel Müller e. K.",
    },
    "erlaubnisse": {
        "has_permit": "yes",
        **d("2026-10-01", "permit_date"),
        "permit_authority": "Stadtverwaltung Weimar",
        "has_craft_card": "no",
        **d("2024-03-01", "residence_date"),
        "residence_authority": "Ausländerbehörde Erfurt",
        "residence_self_employment": "yes",
    },
}
