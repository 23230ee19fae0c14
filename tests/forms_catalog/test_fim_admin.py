"""The Kompetenzzentrum's FIM upload page and the XDatenfelder download in the admin."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from forms_catalog.fim.xdf_read import schema_read
from forms_catalog.models import FormVersion, Service
from tests.backoffice.backoffice_support import current_totp, make_staff
from tests.forms_catalog.fim_support import (
    GENERICODE_SAMPLE,
    XDF2_SAMPLE,
    XDF3_SAMPLE,
    field,
    group,
    sample,
    schema,
)
from tests.forms_catalog.test_admin import staff
from tests.support.staff import otp_force_login

WCAG_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
IMPORT_URL = "/admin/forms_catalog/formversion/fim-import/"


def upload(path, name=None):
    return SimpleUploadedFile(name or path.name, sample(path), content_type="text/xml")


@pytest.mark.django_db
def test_editor_uploads_schema_and_code_list_and_sees_report_and_draft(client, django_user_model):
    editor = staff(django_user_model, "kompetenz", publisher=True)
    otp_force_login(client, editor)
    assert reverse("admin:forms_catalog_formversion_fim_import") == IMPORT_URL
    page = client.get(IMPORT_URL).content.decode()
    assert 'enctype="multipart/form-data"' in page and 'name="codelists"' in page
    changelist = client.get("/admin/forms_catalog/formversion/").content.decode()
    assert IMPORT_URL in changelist
    response = client.post(
        IMPORT_URL,
        {
            "schema": upload(XDF2_SAMPLE),
            "codelists": [upload(GENERICODE_SAMPLE)],
            "service": "hundesteuer",
        },
    )
    body = response.content.decode()
    version = FormVersion.objects.get()
    assert response.status_code == 200
    assert "Entwurf v1 für „Hund anmelden“ angelegt." in body
    assert f"/admin/forms_catalog/formversion/{version.pk}/change/" in body
    assert "Bericht der Übernahme" in body and "R99000001" in body
    assert version.definition["steps"][1]["fields"][0]["fim"]["id"] == "G99000002"
    # The export download of the new draft.
    response = client.get(f"/admin/forms_catalog/formversion/{version.pk}/fim-export/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/xml")
    assert "hundesteuer-v1.xdf3.xml" in response["Content-Disposition"]
    assert schema_read(response.content).id == "S99000001"
    # A second import while the draft is open: a German message, nothing created.
    response = client.post(IMPORT_URL, {"schema": upload(XDF3_SAMPLE), "service": "hundesteuer"})
    body = response.content.decode()
    assert "es wurde nichts angelegt" in body and "bereits einen Entwurf" in body
    assert FormVersion.objects.count() == 1


@pytest.mark.django_db
def test_hostile_upload_shows_a_german_message_and_creates_nothing(client, django_user_model):
    editor = staff(django_user_model, "kompetenz", publisher=True)
    otp_force_login(client, editor)
    xxe = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        b'<x xmlns="urn:xoev-de:fim:standard:xdatenfelder_3.0.0">&e;</x>'
    )
    response = client.post(
        IMPORT_URL,
        {"schema": SimpleUploadedFile("boese.xml", xxe), "service": "neu"},
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "DTD, Entitäten oder externe Verweise" in body and "root:" not in body
    response = client.post(IMPORT_URL, {"service": "neu"})
    assert "errorlist" in response.content.decode()
    assert not Service.objects.exists() and not FormVersion.objects.exists()


@pytest.mark.django_db
def test_markup_in_a_schema_is_shown_as_text(client, django_user_model):
    editor = staff(django_user_model, "kompetenz", publisher=True)
    otp_force_login(client, editor)
    hostile = schema(
        group(
            "G1",
            "<script>alert(1)</script>",
            field("F1", "<img src=x onerror=alert(2)>", datentyp="obj"),
            field("F2", "Name", hilfe="<b>fett</b>"),
        )
    )
    response = client.post(
        IMPORT_URL, {"schema": SimpleUploadedFile("s.xml", hostile), "service": "markup"}
    )
    body = response.content.decode()
    assert "<script>alert(1)" not in body and "<img src=x" not in body
    assert "&lt;img src=x onerror=alert(2)&gt;" in body  # named in the report, escaped
    version = FormVersion.objects.get()
    preview = client.get(f"/admin/forms_catalog/formversion/{version.pk}/preview/")
    page = preview.content.decode()
    assert preview.status_code == 200
    assert "<script>alert(1)" not in page and "<b>fett</b>" not in page
    assert "&lt;b&gt;fett&lt;/b&gt;" in page


@pytest.mark.django_db
def test_only_the_kompetenzzentrum_may_import(client, django_user_model):
    clerk = staff(django_user_model, "sachbearbeitung", publisher=False)
    otp_force_login(client, clerk)
    assert client.get(IMPORT_URL).status_code == 403
    response = client.post(IMPORT_URL, {"schema": upload(XDF3_SAMPLE), "service": "neu"})
    assert response.status_code == 403
    assert not Service.objects.exists()
    changelist = client.get("/admin/forms_catalog/formversion/").content.decode()
    assert IMPORT_URL not in changelist


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_import_page_is_accessible_with_form_error_and_report(live_server, browser):
    editor = make_staff("kz_fim", "kompetenzzentrum", login=False)
    context = browser.new_context(locale="de-DE")
    page = context.new_page()
    page.goto(live_server.url + "/admin/login/?next=" + IMPORT_URL)
    page.fill("#id_username", editor.user.username)
    page.fill("#id_password", editor.password)
    page.fill("#id_otp_token", current_totp(editor.user))
    page.click("input[type=submit]")
    page.wait_for_url(live_server.url + IMPORT_URL)
    reports = []

    def check(name):
        # The admin's own look, under the strict CSP: no inline styles or scripts.
        assert page.locator("#header").count() == 1
        assert "<style" not in page.content() and " style=" not in page.content()
        results = Axe().run(page, options=WCAG_AA)
        assert results.response.get("testEngine", {}).get("name") == "axe-core"
        if results.violations_count:
            reports.append(f"{name}:\n{results.generate_report()}")

    check("empty")
    page.click("input[type=submit]")
    assert page.locator(".errorlist").count() >= 2
    check("form errors")
    page.fill("#id_service", "hundesteuer")
    page.set_input_files(
        "#id_schema",
        files=[{"name": "boese.xml", "mimeType": "text/xml", "buffer": b"<kaputt"}],
    )
    page.click("input[type=submit]")
    assert "kein wohlgeformtes XML" in page.inner_text("[role=alert]")
    check("import error")
    page.set_input_files("#id_schema", str(XDF2_SAMPLE))
    page.set_input_files("#id_codelists", [str(GENERICODE_SAMPLE)])
    page.fill("#id_service", "hundesteuer")
    page.click("input[type=submit]")
    assert "Entwurf v1" in page.inner_text("[role=status]")
    check("report")
    page.click("text=Vorschau")
    assert "Halterin oder Halter" in page.content()
    context.close()
    assert not reports, "\n".join(reports)
