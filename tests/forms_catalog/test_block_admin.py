"""The block library in the admin: list, where used, editing fields without JSON, review with
four eyes, German messages; other staff get nothing."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from forms_catalog.block_services import block_catalogue_load, block_published_version
from forms_catalog.models import Block, BlockVersion, FormVersion
from tests.factories import FormEditorFactory, UserFactory
from tests.forms_catalog.test_blocks import form_with_blocks
from tests.support.staff import otp_force_login

pytestmark = pytest.mark.django_db


@pytest.fixture
def library():
    block_catalogue_load()
    return {b.slug: b for b in Block.objects.all()}


def login(user) -> Client:
    return otp_force_login(Client(), user)


def edit_post(response, **changes) -> dict:
    """The editor's form as the browser would send it, with some values changed."""
    data = {}
    for form in [response.context["header"], *response.context["formset"].forms]:
        for bound in form:
            value = bound.value()
            if value is None or value is False:
                continue
            data[bound.html_name] = "on" if value is True else value
    management = response.context["formset"].management_form
    for bound in management:
        data[bound.html_name] = bound.value()
    data.update(changes)
    return data


def test_list_and_detail_show_versions_fields_and_where_used(library):
    editor = FormEditorFactory()
    version = form_with_blocks(library, slug="antrag", blocks=(("person", "antragsteller"),))
    client = login(editor)
    listing = client.get(reverse("admin:forms_catalog_block_changelist"))
    assert listing.status_code == 200
    body = listing.content.decode()
    assert "Anschrift in Deutschland" in body and "Bankverbindung" in body
    detail = client.get(reverse("admin:forms_catalog_block_change", args=[library["person"].pk]))
    body = detail.content.decode()
    assert detail.status_code == 200
    assert "Geburtsdatum" in body and "geburtsdatum" in body
    assert version.service.name_de in body and "antragsteller" in body
    assert reverse("admin:forms_catalog_formversion_review", args=[version.pk]) in body
    assert "{" not in body.split('id="content"')[1].split("</table>")[0]  # no JSON shown


def test_other_staff_see_no_block_pages(library):
    client = login(UserFactory(is_staff=True))
    for url in (
        reverse("admin:forms_catalog_block_changelist"),
        reverse("admin:forms_catalog_block_change", args=[library["person"].pk]),
        reverse("admin:forms_catalog_block_edit", args=[library["person"].pk]),
    ):
        assert client.get(url).status_code in (302, 403, 404), url


def test_edit_fields_without_json_review_with_four_eyes_and_new_form_drafts(library):
    author, reviewer = FormEditorFactory(), FormEditorFactory()
    form = form_with_blocks(library, slug="antrag", blocks=(("kontakt", "kontakt"),))
    block = library["kontakt"]
    detail_url = reverse("admin:forms_catalog_block_change", args=[block.pk])
    edit_url = reverse("admin:forms_catalog_block_edit", args=[block.pk])
    client = login(author)
    # No draft yet: the editor page sends back to the detail page.
    assert client.get(edit_url)["Location"] == detail_url
    assert client.post(detail_url, {"action": "create"}).status_code == 302
    page = client.get(edit_url)
    assert page.status_code == 200 and 'name="fields-0-label_de"' in page.content.decode()
    # A bad id gets a German message and keeps what was typed.
    bad = edit_post(page, **{"fields-2-id": "Fax Nummer", "fields-2-type": "phone",
                             "fields-2-label_de": "Fax", "fields-2-label_en": "Fax"})  # fmt: skip
    response = client.post(edit_url, bad)
    body = response.content.decode()
    assert response.status_code == 200 and "Nur Kleinbuchstaben" in body and "Fax Nummer" in body
    good = edit_post(
        page,
        **{
            "fields-2-id": "fax",
            "fields-2-type": "phone",
            "fields-2-label_de": "Fax",
            "fields-2-label_en": "Fax",
            "fields-1-DELETE": "on",
            "fields-0-label_de": "E-Mail",
        },
    )
    assert client.post(edit_url, good).status_code == 302
    draft = BlockVersion.objects.get(block=block, status="draft")
    fields = draft.content["fields"]
    assert [f["id"] for f in fields] == ["email", "fax"]
    assert fields[0]["label"] == {"de": "E-Mail", "en": "Email address"}
    assert fields[0]["autocomplete"] == "email" and fields[0]["required"] is True
    # Submit without a note: German message.
    response = client.post(detail_url, {"action": "submit"})
    assert "Bitte geben Sie einen Änderungshinweis an." in response.content.decode()
    client.post(detail_url, {"action": "submit", "submit-note": "Fax statt Telefon"})
    draft.refresh_from_db()
    assert draft.status == "in_review"
    # The author cannot approve.
    response = client.post(detail_url, {"action": "approve"})
    assert "Vier-Augen-Prinzip" in response.content.decode()
    assert block_published_version(block=block).number == 1
    # A second editor approves: published, and the form gets a new draft.
    response = login(reviewer).post(detail_url, {"action": "approve"})
    assert response.status_code == 302
    assert block_published_version(block=block).number == 2
    new_draft = FormVersion.objects.get(service=form.service, status="draft")
    assert "Fax statt Telefon" in new_draft.change_note
    assert "kontakt_fax" in [
        f["id"] for f in new_draft.definition["steps"][0]["fields"][1]["fields"]
    ]
    form.refresh_from_db()
    assert form.status == "published" and "kontakt_fax" not in str(form.definition)


def test_hostile_posts_are_refused_with_german_messages_and_change_nothing(library):
    author = FormEditorFactory()
    block = library["bankverbindung"]
    detail_url = reverse("admin:forms_catalog_block_change", args=[block.pk])
    edit_url = reverse("admin:forms_catalog_block_edit", args=[block.pk])
    client = login(author)
    client.post(detail_url, {"action": "create"})
    draft = BlockVersion.objects.get(block=block, status="draft")
    before = draft.content
    page = client.get(edit_url)
    for changes in (
        {"fields-0-type": "group"},  # not a type a block may have
        {"fields-0-type": "<script>"},
        {"fields-0-label_de": "x" * 5000},
        {"fields-0-max_length": "-3"},
        {"fields-0-max_length": "viel"},
        {"fields-TOTAL_FORMS": "500"},
    ):
        response = client.post(edit_url, edit_post(page, **changes))
        assert response.status_code == 200, changes
        assert "Bitte korrigieren Sie die markierten Angaben." in response.content.decode()
    draft.refresh_from_db()
    assert draft.content == before
    # Unknown actions and approving without a version in review get a message, not a 500.
    response = client.post(detail_url, {"action": "drop table"})
    assert "Unbekannte Aktion." in response.content.decode()
    response = client.post(detail_url, {"action": "approve"})
    assert "Nur ein Baustein in Prüfung kann freigegeben werden." in response.content.decode()
    assert client.get(reverse("admin:forms_catalog_block_change", args=["x"])).status_code in (
        403,
        404,
    )
    # Someone without the editor permission cannot post either.
    outsider = login(UserFactory(is_staff=True))
    assert outsider.post(detail_url, {"action": "create"}).status_code in (302, 403)
    assert BlockVersion.objects.filter(block=block).count() == 2
