"""Admin for the Kompetenzzentrum: only publishers change forms; preview, diff, path errors."""

from __future__ import annotations

import copy
import json

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from forms_catalog.models import FormVersion, Service
from forms_catalog.services import catalogue_load, form_version_create_draft
from tests.support.staff import otp_force_login

pytestmark = pytest.mark.django_db

MODEL_PERMS = [
    "view_service",
    "change_service",
    "add_service",
    "view_formversion",
    "change_formversion",
    "add_formversion",
    "delete_formversion",
]


def staff(django_user_model, username: str, *, publisher: bool):
    user = django_user_model.objects.create_user(username, password="x", is_staff=True)
    group, _ = Group.objects.get_or_create(
        name="Kompetenzzentrum" if publisher else "Sachbearbeitung"
    )
    codenames = MODEL_PERMS + (["publish_formversion"] if publisher else [])
    group.permissions.set(
        Permission.objects.filter(content_type__app_label="forms_catalog", codename__in=codenames)
    )
    user.groups.add(group)
    return user


@pytest.fixture
def editor(django_user_model):
    return staff(django_user_model, "kompetenz", publisher=True)


@pytest.fixture
def clerk(django_user_model):
    # Even with the model's change permission, a clerk without publish rights changes nothing.
    return staff(django_user_model, "sachbearbeitung", publisher=False)


@pytest.fixture
def hund():
    catalogue_load(path=None)
    return FormVersion.objects.get(service__slug="hundeanmeldung")


def changelist_action(client, action, versions):
    return client.post(
        reverse("admin:forms_catalog_formversion_changelist"),
        {"action": action, "_selected_action": [v.pk for v in versions]},
        follow=True,
    )


def test_editor_creates_edits_previews_diffs_and_publishes(client, editor, hund, django_user_model):
    # The JSON textarea is the expert view of platform administrators (editors use the
    # designer, see test_designer_views.py).
    editor.is_superuser = True
    editor.save()
    otp_force_login(client, editor)
    response = changelist_action(client, "create_draft", [hund])
    assert response.status_code == 200
    draft = FormVersion.objects.get(service=hund.service, status=FormVersion.Status.DRAFT)
    assert draft.number == 2

    # Invalid JSON edit: refused, the messages name the path.
    broken = copy.deepcopy(draft.definition)
    broken["steps"][1]["fields"][0]["fields"][1]["visible_if"] = {"eq": [{"field": "ghost"}, 1]}
    url = reverse("admin:forms_catalog_formversion_change", args=[draft.pk])
    response = client.post(url, {"definition": json.dumps(broken), "change_note": "kaputt"})
    assert response.status_code == 200
    assert "steps[1].fields[0].fields[1].visible_if.eq[0].field" in response.content.decode()
    response = client.post(url, {"definition": "{kein json", "change_note": ""})
    assert "Zeile 1" in response.content.decode()
    draft.refresh_from_db()
    assert draft.definition == hund.definition

    # Valid edit is saved.
    changed = copy.deepcopy(draft.definition)
    changed["steps"][0]["title"] = {"de": "Halterin oder Halter", "en": "Keeper"}
    response = client.post(url, {"definition": json.dumps(changed), "change_note": "Titel"})
    assert response.status_code == 302, response.content.decode()[:2000]
    draft.refresh_from_db()
    assert draft.definition["steps"][0]["title"]["de"] == "Halterin oder Halter"

    preview = client.get(reverse("admin:forms_catalog_formversion_preview", args=[draft.pk]))
    html = preview.content.decode()
    assert preview.status_code == 200
    assert "Halterin oder Halter" in html and 'name="hunde-dogs-0-chip_number"' in html
    assert "<fieldset disabled>" in html
    english = client.get(
        reverse("admin:forms_catalog_formversion_preview", args=[draft.pk]) + "?lang=en"
    )
    assert "Microchip number" in english.content.decode()

    diff = client.get(
        reverse("admin:forms_catalog_formversion_diff", args=[draft.pk])
    ).content.decode()
    assert "Halterin oder Halter" in diff and "portal-diff__row--changed" in diff
    assert "<style" not in diff  # the CSP blocks inline styles: the CSS is a static file

    # Publishing takes a second editor: submit, approve, confirm.
    review = reverse("admin:forms_catalog_formversion_review", args=[draft.pk])
    client.post(review, {"action": "submit", "submit-note": "Titel geändert"})
    draft.refresh_from_db()
    assert draft.status == FormVersion.Status.IN_REVIEW
    second = staff(django_user_model, "kompetenz2", publisher=True)
    other = otp_force_login(type(client)(), second)
    response = other.post(
        review,
        {
            "action": "approve",
            "approve-checksum": draft.checksum,
            "approve-note": "passt",
            "approve-when": "now",
        },
    )
    confirm = reverse("admin:forms_catalog_formversion_publish", args=[draft.pk])
    assert response.status_code == 302 and response["Location"] == confirm
    page = other.get(confirm).content.decode()
    assert "Das ändert sich landesweit" in page and "Version 1 wird zurückgezogen" in page
    draft.refresh_from_db()
    assert draft.status == FormVersion.Status.APPROVED  # nothing published before the click
    other.post(confirm)
    draft.refresh_from_db()
    hund.refresh_from_db()
    assert draft.status == FormVersion.Status.PUBLISHED and draft.published_by == second
    assert hund.status == FormVersion.Status.RETIRED

    changelist_action(client, "retire", [draft])
    draft.refresh_from_db()
    assert draft.status == FormVersion.Status.RETIRED


def test_submitting_an_invalid_draft_for_review_shows_the_paths(client, editor, hund):
    broken = copy.deepcopy(hund.definition)
    broken["steps"][2]["fields"][0]["visible_if"] = {"field": "later_field"}
    draft = form_version_create_draft(service=hund.service, definition=broken)
    otp_force_login(client, editor)
    response = client.post(
        reverse("admin:forms_catalog_formversion_review", args=[draft.pk]),
        {"action": "submit", "submit-note": "Bitte prüfen"},
    )
    html = response.content.decode()
    assert "steps[2].fields[0].visible_if.field" in html
    assert "Bitte prüfen" in html  # what was typed stays
    draft.refresh_from_db()
    assert draft.status == FormVersion.Status.DRAFT


def test_published_version_is_read_only_even_for_editors(client, editor, hund):
    otp_force_login(client, editor)
    url = reverse("admin:forms_catalog_formversion_change", args=[hund.pk])
    page = client.get(url).content.decode()
    assert 'name="definition"' not in page
    response = client.post(url, {"definition": "{}", "change_note": "x"})
    assert response.status_code == 403
    hund.refresh_from_db()
    assert hund.definition["steps"]


def test_clerk_may_look_but_not_change_publish_or_retire(client, clerk, hund):
    otp_force_login(client, clerk)
    assert client.get(reverse("admin:forms_catalog_formversion_changelist")).status_code == 200
    assert client.get(reverse("admin:forms_catalog_formversion_add")).status_code == 403
    draft = form_version_create_draft(service=hund.service)
    url = reverse("admin:forms_catalog_formversion_change", args=[draft.pk])
    assert (
        client.post(
            url, {"definition": json.dumps(draft.definition), "change_note": "x"}
        ).status_code
        == 403
    )
    review = reverse("admin:forms_catalog_formversion_review", args=[draft.pk])
    assert client.get(review).status_code == 200  # looking is fine
    assert client.post(review, {"action": "submit", "submit-note": "x"}).status_code == 403
    publish = reverse("admin:forms_catalog_formversion_publish", args=[draft.pk])
    assert client.post(publish).status_code == 403
    changelist_action(client, "retire", [hund])
    draft.refresh_from_db()
    hund.refresh_from_db()
    assert draft.status == FormVersion.Status.DRAFT
    assert hund.status == FormVersion.Status.PUBLISHED
    service_url = reverse("admin:forms_catalog_service_change", args=[hund.service.pk])
    assert client.post(service_url, {"name_de": "gekapert"}).status_code == 403
    assert Service.objects.get(pk=hund.service.pk).name_de != "gekapert"
    # Read-only access to the preview is fine (no personal data in a form).
    assert (
        client.get(reverse("admin:forms_catalog_formversion_preview", args=[draft.pk])).status_code
        == 200
    )


def test_staff_without_any_catalogue_permission_cannot_preview(client, django_user_model, hund):
    user = django_user_model.objects.create_user("fremd", password="x", is_staff=True)
    otp_force_login(client, user)
    response = client.get(reverse("admin:forms_catalog_formversion_preview", args=[hund.pk]))
    assert response.status_code == 403


def test_editor_adds_a_draft_through_the_add_form(client, editor):
    service = Service.objects.create(slug="neu", name_de="Neu", name_en="New")
    otp_force_login(client, editor)
    defn = {
        "schema_version": 1,
        "steps": [
            {
                "id": "a",
                "title": {"de": "A", "en": "A"},
                "fields": [{"id": "x", "type": "text", "label": {"de": "X", "en": "X"}}],
            }
        ],
    }
    response = client.post(
        reverse("admin:forms_catalog_formversion_add"),
        {"service": service.pk, "definition": json.dumps(defn), "change_note": "neu"},
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    version = FormVersion.objects.get(service=service)
    assert version.status == FormVersion.Status.DRAFT and version.number == 1


def test_adding_a_second_draft_is_refused_with_a_message(client, editor, hund):
    form_version_create_draft(service=hund.service)
    otp_force_login(client, editor)
    response = client.post(
        reverse("admin:forms_catalog_formversion_add"),
        {"service": hund.service.pk, "definition": json.dumps(hund.definition), "change_note": ""},
    )
    assert response.status_code == 200
    assert "bereits einen Entwurf" in response.content.decode()
    assert FormVersion.objects.filter(service=hund.service).count() == 2
