"""Hostile or broken XML: a clear German message, and nothing is created."""

from __future__ import annotations

import pytest
from django.utils import translation

from forms_catalog.fim.services import fim_schema_import
from forms_catalog.fim.xdf_read import FimImportError
from forms_catalog.models import FormVersion, Service
from tests.factories import ServiceFactory
from tests.forms_catalog.fim_support import (
    GENERICODE_SAMPLE,
    XDF2_SAMPLE,
    XDF3_SAMPLE,
    field,
    group,
    sample,
    schema,
)

pytestmark = pytest.mark.django_db

ROOT = b"<xdf:xdatenfelder.stammdatenschema.0102"


def with_doctype(data: bytes, doctype: bytes, entity_use: bytes = b"") -> bytes:
    """`data` with a DOCTYPE after the XML declaration and an entity used in the schema name."""
    declaration, rest = data.split(b"?>", 1)
    rest = rest.replace(
        b"<xdf:name>Anmeldung zur Hundesteuer", b"<xdf:name>" + entity_use + b"Anmeldung", 1
    )
    return declaration + b"?>\n" + doctype + rest


XXE = with_doctype(
    sample(XDF3_SAMPLE),
    b'<!DOCTYPE xdf:xdatenfelder.stammdatenschema.0102 [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
    b"&xxe;",
)
BILLION_LAUGHS = with_doctype(
    sample(XDF3_SAMPLE),
    b'<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
        for i in range(1, 10)
    )
    + b"]>",
    b"&lol9;",
)
EXTERNAL_DTD = with_doctype(
    sample(XDF3_SAMPLE),
    b'<!DOCTYPE xdf:xdatenfelder.stammdatenschema.0102 SYSTEM "http://127.0.0.1:9/evil.dtd">',
)
WRONG_NAMESPACE = sample(XDF3_SAMPLE).replace(
    b"urn:xoev-de:fim:standard:xdatenfelder_3.0.0", b"urn:example:not-fim"
)
MISSING_FIELD_ID = sample(XDF2_SAMPLE).replace(b"<xdf:id>F99000024</xdf:id>", b"")
MISSING_SCHEMA_ID = sample(XDF3_SAMPLE).replace(b"<xdf:id>S99000002</xdf:id>", b"<xdf:id></xdf:id>")
TEN_MB = sample(XDF3_SAMPLE).replace(
    b"<xdf:header>", b"<!--" + b"x" * (10 * 1024 * 1024) + b"--><xdf:header>"
)
BROKEN = sample(XDF3_SAMPLE)[:5000]
NOT_XML = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100
WRONG_ROOT = sample(XDF3_SAMPLE).replace(
    b"xdatenfelder.stammdatenschema.0102", b"xdatenfelder.codeliste.0102"
)
BAD_ANZAHL = schema(group("G1", "Gruppe", field("F1", "Feld", anzahl="viele")))
TOO_DEEP = schema(
    "".join(
        "<xdf:struktur><xdf:anzahl>1:1</xdf:anzahl><xdf:enthaelt><xdf:datenfeldgruppe>"
        f"<xdf:identifikation><xdf:id>G{i}</xdf:id><xdf:version>1</xdf:version>"
        f"</xdf:identifikation><xdf:name>G{i}</xdf:name>"
        for i in range(40)
    )
    + field("F1", "x")
    + "</xdf:datenfeldgruppe></xdf:enthaelt></xdf:struktur>" * 40
)
NO_FIELDS = schema(group("G1", "Nur Hinweis", field("F1", "Hinweis", feldart="label")))


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (XXE, "DTD, Entitäten oder externe Verweise"),
        (BILLION_LAUGHS, "DTD, Entitäten oder externe Verweise"),
        (EXTERNAL_DTD, "DTD, Entitäten oder externe Verweise"),
        (WRONG_NAMESPACE, "Namensraum „urn:example:not-fim“ ist unbekannt"),
        (MISSING_FIELD_ID, "hat keine Kennung"),
        (MISSING_SCHEMA_ID, "hat keine Kennung"),
        (TEN_MB, "ist zu groß"),
        (BROKEN, "kein wohlgeformtes XML"),
        (NOT_XML, "kein wohlgeformtes XML"),
        (WRONG_ROOT, "keine Stammdatenschema-Nachricht"),
        (BAD_ANZAHL, "ungültige Anzahl „viele“"),
        (TOO_DEEP, "zu tief verschachtelt"),
        (NO_FIELDS, "keine Felder"),
    ],
    ids=[
        "xxe",
        "billion-laughs",
        "external-dtd",
        "wrong-namespace",
        "missing-field-id",
        "missing-schema-id",
        "10mb",
        "broken",
        "not-xml",
        "wrong-root",
        "bad-anzahl",
        "too-deep",
        "no-fields",
    ],
)
def test_hostile_or_broken_schema_gets_a_german_message_and_creates_nothing(data, expected):
    ServiceFactory(slug="vorhanden")
    before = (Service.objects.count(), FormVersion.objects.count())
    for slug in ("vorhanden", "neu"):
        with pytest.raises(FimImportError) as exc:
            fim_schema_import(
                schema=data,
                codelists=[("gc.xml", sample(GENERICODE_SAMPLE))],
                service_slug=slug,
            )
        assert expected in exc.value.message
        assert "root:" not in exc.value.message  # no passwd content, no traceback text
    assert (Service.objects.count(), FormVersion.objects.count()) == before


def test_hostile_code_list_creates_nothing():
    hostile = with_doctype(
        sample(GENERICODE_SAMPLE),
        b'<!DOCTYPE gc:CodeList [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
    ).replace(b"<ShortName>geschlecht.hund", b"<ShortName>&xxe;geschlecht.hund")
    wrong = sample(GENERICODE_SAMPLE).replace(b"genericode/1.0/", b"genericode/9.9/")
    for codelist, expected in ((hostile, "DTD"), (wrong, "keine genericode-Codeliste")):
        with pytest.raises(FimImportError) as exc:
            fim_schema_import(
                schema=sample(XDF2_SAMPLE), codelists=[("gc.xml", codelist)], service_slug="neu"
            )
        assert expected in exc.value.message
        assert "gc.xml" in exc.value.message
    assert not Service.objects.exists() and not FormVersion.objects.exists()


@pytest.mark.parametrize("slug", ["", "Ä-Leistung", "a/b", "x" * 61])
def test_invalid_service_slug_is_refused(slug):
    with pytest.raises(FimImportError) as exc:
        fim_schema_import(schema=sample(XDF3_SAMPLE), service_slug=slug)
    assert "Kennung" in exc.value.message
    assert not Service.objects.exists()


def test_messages_are_english_for_an_english_admin():
    with translation.override("en"), pytest.raises(FimImportError) as exc:
        fim_schema_import(schema=XXE, service_slug="neu")
    assert "contains a DTD, entities or external references" in exc.value.message
