"""`manage.py import_fim` and `manage.py export_fim` for scripted use."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from forms_catalog.fim.xdf_read import schema_read
from forms_catalog.models import FormVersion, Service
from forms_catalog.services import form_version_publish_system
from tests.forms_catalog.fim_support import GENERICODE_SAMPLE, XDF2_SAMPLE, XDF3_SAMPLE

pytestmark = pytest.mark.django_db


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_import_fim_prints_the_draft_id_and_the_report():
    out, _err = run("import_fim", str(XDF2_SAMPLE), str(GENERICODE_SAMPLE), "--service", "hund")
    version = FormVersion.objects.get()
    assert re.search(rf"^Entwurf {version.pk} angelegt: hund v1 \(neue Leistung\)$", out, re.M)
    assert "Bericht der Übernahme:" in out
    assert "- R99000001 1.0: Regel „Anmeldefrist“" in out
    assert "F99000027" in out


def test_import_fim_failure_is_a_command_error_and_creates_nothing(tmp_path):
    hostile = tmp_path / "xxe.xml"
    hostile.write_bytes(
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        b'<x xmlns="urn:xoev-de:fim:standard:xdatenfelder_2">&e;</x>'
    )
    with pytest.raises(CommandError, match="DTD, Entitäten oder externe Verweise"):
        run("import_fim", str(hostile), "--service", "hund")
    huge = tmp_path / "huge.xml"
    huge.write_bytes(XDF3_SAMPLE.read_bytes() + b"<!--" + b"x" * (10 * 1024 * 1024) + b"-->")
    with pytest.raises(CommandError, match="zu groß"):
        run("import_fim", str(huge), "--service", "hund")
    with pytest.raises(CommandError, match="kann nicht gelesen werden"):
        run("import_fim", str(tmp_path / "fehlt.xml"), "--service", "hund")
    assert not Service.objects.exists() and not FormVersion.objects.exists()


def test_export_fim_writes_published_draft_or_numbered_version(tmp_path):
    run("import_fim", str(XDF3_SAMPLE), "--service", "hund")
    with pytest.raises(CommandError, match="veröffentlichte Version"):
        run("export_fim", "hund")
    form_version_publish_system(version=FormVersion.objects.get())
    out, err = run("export_fim", "hund")
    assert out.startswith("<?xml")
    parsed = schema_read(out.encode("utf-8"))
    assert parsed.id == "S99000002" and parsed.xdf_version == "3"
    assert "deutschen Texte" in err
    with pytest.raises(CommandError, match="Entwurf"):
        run("export_fim", "hund", "--draft")
    run("import_fim", str(XDF2_SAMPLE), str(GENERICODE_SAMPLE), "--service", "hund")
    out, _err = run("export_fim", "hund", "--draft")
    assert schema_read(out.encode("utf-8")).id == "S99000001"
    out, _err = run("export_fim", "hund", "--version", "1")
    assert schema_read(out.encode("utf-8")).id == "S99000002"
    with pytest.raises(CommandError, match="Keine Leistung"):
        run("export_fim", "gibtsnicht")
    # Round trip through files, as a script would do it.
    exported = tmp_path / "schema.xml"
    exported.write_text(out, encoding="utf-8")
    out, _err = run("import_fim", str(exported), "--service", "hund-kopie")
    copy = FormVersion.objects.get(service__slug="hund-kopie")
    assert copy.definition == FormVersion.objects.get(service__slug="hund", number=1).definition
