"""The designer's pages in the admin: only editors, only drafts, forged paths and versions,
huge input; every save goes through the draft service and keeps what was typed on errors."""

from __future__ import annotations

import copy

import pytest
from django import forms
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils.datastructures import MultiValueDict

from forms_catalog.block_services import block_catalogue_load
from forms_catalog.designer.edits import set_options, update_element
from forms_catalog.designer.paths import all_paths, find
from forms_catalog.designer.settings_form import element_form
from forms_catalog.models import Block, FormVersion, FormVersionEvent
from forms_catalog.services import (
    catalogue_load,
    form_version_create_draft,
    form_version_submit_for_review,
)
from tests.factories import ServiceFactory
from tests.forms_catalog.test_admin import staff
from tests.support.staff import otp_force_login

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor(django_user_model):
    return staff(django_user_model, "kompetenz", publisher=True)


@pytest.fixture
def editor_client(client, editor):
    return otp_force_login(client, editor)


@pytest.fixture
def draft(editor):
    service = ServiceFactory(slug="neue-leistung", name_de="Neue Leistung")
    return form_version_create_draft(service=service, user=editor)


def url(version, name="", element=None):
    target = reverse(f"admin:forms_catalog_formversion_designer{name}", args=[version.pk])
    return f"{target}?element={element}" if element else target


def post(client, version, **data):
    version.refresh_from_db()
    return client.post(url(version), {"checksum": version.checksum, **data})


def test_an_editor_builds_a_form_without_json(editor_client, draft, editor):
    page = editor_client.get(url(draft)).content.decode()
    assert "noch keinen Schritt" in page and "Definition (JSON)" not in page
    response = post(editor_client, draft, action="add_step", title_de="Angaben zur Person")
    assert response.status_code == 302
    assert response["Location"] == url(draft, element="steps/angaben_zur_person")
    response = post(
        editor_client,
        draft,
        action="add",
        element="steps/angaben_zur_person",
        kind="choice",
        label_de="Anrede",
    )
    assert response.status_code == 302
    path = "steps/angaben_zur_person/fields/anrede"
    page = editor_client.get(url(draft, element=path)).content.decode()
    assert 'name="option-0-value"' in page and "Antwortmöglichkeiten" in page
    response = post(
        editor_client,
        draft,
        action="save",
        element=path,
        id="anrede",
        label__de="Anrede",
        label__en="Salutation",
        required="on",
        **{
            "option-0-value": "",
            "option-0-de": "Frau",
            "option-0-en": "Ms",
            "option-1-value": "herr",
            "option-1-de": "Herr",
            "option-1-en": "Mr",
            "option-2-de": "",
        },
        option_move="1:up",
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    draft.refresh_from_db()
    field = draft.definition["steps"][0]["fields"][0]
    assert field["label"] == {"de": "Anrede", "en": "Salutation"} and field["required"] is True
    assert [o["value"] for o in field["options"]] == ["herr", "frau"]  # moved up
    assert FormVersionEvent.objects.filter(
        version=draft, action=FormVersionEvent.Action.EDITED, actor=editor
    ).exists()
    # The check names the step and field by label and links to them.
    check = editor_client.get(url(draft, "_check")).content.decode()
    assert "Angaben zur Person" in check and "englische Fassung fehlt" in check
    assert "?element=steps/angaben_zur_person" in check
    # The preview renders the citizen's page of the step, framed by the same origin only.
    frame = editor_client.get(
        reverse("admin:forms_catalog_formversion_designer_preview_frame", args=[draft.pk])
        + "?step=angaben_zur_person&lang=en"
    )
    html = frame.content.decode()
    assert frame.status_code == 200 and "Salutation" in html and 'lang="en"' in html
    assert frame["X-Frame-Options"] == "SAMEORIGIN"
    assert "frame-ancestors 'self'" in frame["Content-Security-Policy"]
    structure = editor_client.get(url(draft))
    assert structure["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in structure["Content-Security-Policy"]


def test_clerks_and_anonymous_users_cannot_use_the_designer(client, django_user_model, draft):
    clerk = staff(django_user_model, "clerk", publisher=False)
    for name in ("", "_preview", "_preview_frame", "_check"):
        assert client.get(url(draft, name)).status_code == 302  # to the login
    otp_force_login(client, clerk)
    for name in ("", "_preview", "_preview_frame", "_check"):
        assert client.get(url(draft, name)).status_code == 403
    response = client.post(url(draft), {"action": "add_step", "title_de": "X"})
    assert response.status_code == 403
    draft.refresh_from_db()
    assert draft.definition["steps"] == []


def test_unknown_versions_are_404_and_forged_paths_get_a_german_message(editor_client, draft):
    assert editor_client.get(url(FormVersion(pk=999999))).status_code == 404
    page = editor_client.get(url(draft, element="steps/../../x"))
    assert page.status_code == 200 and "gibt es im Entwurf nicht" in page.content.decode()
    for element in ["steps/ghost", "x" * 10000, ""]:
        response = post(editor_client, draft, action="move", element=element, direction="up")
        assert response.status_code in (200, 302)
        follow = (
            editor_client.get(response["Location"]) if response.status_code == 302 else response
        )
        assert "gibt es im Entwurf nicht" in follow.content.decode()
    response = post(editor_client, draft, action="explode")
    assert "Unbekannte Aktion" in response.content.decode()
    draft.refresh_from_db()
    assert draft.definition["steps"] == []


def test_huge_and_wrong_input_is_refused_and_what_was_typed_stays(editor_client, draft):
    post(editor_client, draft, action="add_step", title_de="Schritt")
    post(
        editor_client, draft, action="add", element="steps/schritt", kind="number", label_de="Zahl"
    )
    path = "steps/schritt/fields/zahl"
    draft.refresh_from_db()
    before = copy.deepcopy(draft.definition)
    response = post(
        editor_client,
        draft,
        action="save",
        element=path,
        id="zahl",
        label__de="Neue Beschriftung " + "x" * 3000,
        label__en="Number",
        min="abc",
        decimals="99",
    )
    html = response.content.decode()
    assert response.status_code == 200 and "markierten Angaben" in html
    assert "Höchstens 2000 Zeichen" in html and "Number" in html
    draft.refresh_from_db()
    assert draft.definition == before
    response = post(
        editor_client, draft, action="save", element=path, id="Zahl!", label__de="Meine Zahl"
    )
    assert "Kennung darf nur" in response.content.decode()
    assert 'value="Meine Zahl"' in response.content.decode()  # what was typed stays
    response = post(editor_client, draft, action="add", element=path, kind="bogus", label_de="x")
    assert "Bitte wählen Sie" in response.content.decode()
    response = post(editor_client, draft, action="add_step", title_de="y" * 100000)
    assert response.status_code in (200, 400)
    draft.refresh_from_db()
    assert draft.definition == before


def test_a_stale_page_is_refused_and_keeps_the_typed_values(editor_client, draft):
    post(editor_client, draft, action="add_step", title_de="Schritt")
    response = editor_client.post(
        url(draft),
        {
            "checksum": "stale",
            "action": "save",
            "element": "steps/schritt",
            "id": "schritt",
            "title__de": "Mein neuer Titel",
        },
    )
    html = response.content.decode()
    assert "wurde geändert, seit Sie die Seite geöffnet haben" in html
    assert "Mein neuer Titel" in html
    draft.refresh_from_db()
    assert draft.definition["steps"][0]["title"]["de"] == "Schritt"


def test_published_and_in_review_versions_are_never_changed(editor_client, editor):
    catalogue_load(path=None)
    published = FormVersion.objects.get(service__slug="hundeanmeldung")
    before = copy.deepcopy(published.definition)
    page = editor_client.get(url(published, element="steps/halter")).content.decode()
    assert "kein Entwurf" in page and "Nach oben" not in page
    response = editor_client.post(
        url(published),
        {
            "checksum": published.checksum,
            "action": "delete",
            "element": f"steps/{before['steps'][0]['id']}",
        },
    )
    assert response.status_code == 302
    published.refresh_from_db()
    assert published.definition == before
    message = editor_client.get(response["Location"]).content.decode()
    assert "unveränderlich" in message

    draft = form_version_create_draft(service=published.service, user=editor)
    form_version_submit_for_review(version=draft, user=editor, note="bitte prüfen")
    response = editor_client.post(
        url(draft),
        {"checksum": draft.checksum, "action": "add_step", "title_de": "Neu"},
    )
    draft.refresh_from_db()
    assert draft.definition == before
    assert "Überarbeitung zurück" in editor_client.get(response["Location"]).content.decode()


def test_formular_gestalten_from_the_service(editor_client, editor):
    service = ServiceFactory(slug="ganz-neu", name_de="Ganz neu")
    change = reverse("admin:forms_catalog_service_change", args=[service.pk])
    entry = reverse("admin:forms_catalog_service_designer", args=[service.pk])
    assert entry in editor_client.get(change).content.decode()
    assert "beginnt leer" in editor_client.get(entry).content.decode()
    response = editor_client.post(entry)
    draft = FormVersion.objects.get(service=service)
    assert response["Location"] == url(draft)
    assert draft.definition == {"schema_version": 1, "steps": []} and draft.author == editor
    assert editor_client.get(entry)["Location"] == url(draft)  # the open draft again


def test_the_json_textarea_is_only_for_superusers(editor_client, draft, django_user_model):
    change = reverse("admin:forms_catalog_formversion_change", args=[draft.pk])
    assert 'name="definition"' not in editor_client.get(change).content.decode()
    # Without the expert view the note still saves, and a forged definition is ignored.
    response = editor_client.post(
        change, {"change_note": "Nur der Hinweis", "definition": '{"steps": "kaputt"}'}
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.change_note == "Nur der Hinweis" and draft.definition["steps"] == []
    add = reverse("admin:forms_catalog_formversion_add")
    other = ServiceFactory(slug="zweite", name_de="Zweite")
    response = editor_client.post(add, {"service": other.pk, "change_note": "neu"})
    assert response.status_code == 302
    assert FormVersion.objects.get(service=other).definition == {"schema_version": 1, "steps": []}
    admin = django_user_model.objects.create_superuser("root", password="x")
    root = otp_force_login(type(editor_client)(), admin)
    html = root.get(change).content.decode()
    assert 'name="definition"' in html and "Expertenansicht" in html


def test_submitting_a_broken_draft_lists_the_problems_in_german(editor_client, draft):
    post(editor_client, draft, action="add_step", title_de="Erster Schritt")
    response = editor_client.post(
        reverse("admin:forms_catalog_formversion_review", args=[draft.pk]),
        {"action": "submit", "submit-note": "fertig?"},
    )
    html = response.content.decode()
    assert "Schritt „Erster Schritt“" in html and "noch kein Feld" in html
    assert "?element=steps/erster_schritt" in html


def test_every_element_of_every_catalogue_form_opens_in_the_designer(editor_client, editor):
    """Each field kind's side panel renders from the real catalogue definitions."""
    catalogue_load(path=None)
    for published in FormVersion.objects.filter(status=FormVersion.Status.PUBLISHED):
        draft = form_version_create_draft(service=published.service, user=editor)
        for path in all_paths(draft.definition):
            response = editor_client.get(url(draft, element=path))
            assert response.status_code == 200, path
            assert "portal-designer__settings" in response.content.decode(), path
        check = editor_client.get(url(draft, "_check")).content.decode()
        assert "Keine Probleme gefunden" in check, published.service.slug


def _without_false_flags(node):
    # An unticked box removes its key: `"required": false` and no key mean the same.
    if isinstance(node, dict):
        return {k: _without_false_flags(v) for k, v in node.items() if v is not False}
    if isinstance(node, list):
        return [_without_false_flags(v) for v in node]
    return node


def test_saving_every_side_panel_unchanged_keeps_every_catalogue_definition():
    """Nothing is lost or invented by the settings forms: each element of each catalogue
    form, shown and saved as shown, gives the same definition."""
    catalogue_load(path=None)
    for version in FormVersion.objects.filter(status=FormVersion.Status.PUBLISHED):
        definition = version.definition
        for path in all_paths(definition):
            located = find(definition, path)
            form_class, rows = element_form(
                located.element,
                kind=located.kind,
                in_repeatable_group=located.in_repeatable_group,
            )
            shown = form_class(element=located.element, option_rows=rows)
            data = MultiValueDict()
            for name, bound in ((n, shown[n]) for n in shown.fields):
                value = bound.value()
                if isinstance(value, bool):
                    if value:
                        data[name] = "on"
                elif isinstance(value, list):
                    data.setlist(name, value)
                elif isinstance(bound.field, forms.ChoiceField):
                    data[name] = value
                elif value is not None:
                    data[name] = bound.field.widget.format_value(value)
            form = form_class(data=data, element=located.element, option_rows=rows)
            assert form.is_valid(), (version.service.slug, path, form.errors)
            saved, new_path = update_element(definition, path, values=form.values())
            if form.has_options:
                saved, new_path = set_options(saved, new_path, options=form.options())
            assert new_path == path
            assert _without_false_flags(saved) == _without_false_flags(definition), (
                version.service.slug,
                path,
            )


def test_a_block_is_inserted_by_reference_from_the_side_panel(editor_client, draft):
    assert not block_catalogue_load().failed
    person = Block.objects.get(slug="person")
    post(editor_client, draft, action="add_step", title_de="Angaben")
    page = editor_client.get(url(draft, element="steps/angaben")).content.decode()
    assert "Baustein einfügen" in page and person.name_de in page
    response = post(
        editor_client,
        draft,
        action="add_block",
        element="steps/angaben",
        block=str(person.pk),
        group_id="antragsteller",
    )
    assert response.status_code == 302
    assert response["Location"] == url(draft, element="steps/angaben/fields/antragsteller")
    draft.refresh_from_db()
    group = draft.definition["steps"][0]["fields"][0]
    assert group["block"]["slug"] == "person" and group["id"] == "antragsteller"
    assert all(f["id"].startswith("antragsteller_") for f in group["fields"])
    # The same id again, a forged block id and no block at all: a German message, no change.
    before = draft.definition
    for data in (
        {"block": str(person.pk), "group_id": "antragsteller"},
        {"block": "999999"},
        {"block": "<script>"},
    ):
        response = post(editor_client, draft, action="add_block", element="steps/angaben", **data)
        assert response.status_code == 302
        messages = [str(m) for m in get_messages(response.wsgi_request)]
        assert messages and ("Baustein" in messages[-1] or "Kennung" in messages[-1]), messages
        draft.refresh_from_db()
        assert draft.definition == before
