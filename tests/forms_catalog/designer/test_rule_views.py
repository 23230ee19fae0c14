"""The pickers' admin pages: editors only, drafts only, forged elements and ids, German
messages next to the row that caused them, nothing typed lost, no JSON shown."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from forms_catalog.services import form_version_create_draft, form_version_publish_system
from tests.factories import FormEditorFactory, ServiceFactory, UserFactory
from tests.forms_catalog.designer.rules_support import picker_definition
from tests.support.staff import otp_force_login

pytestmark = pytest.mark.django_db

NOTE = "steps/weiteres/fields/note"


@pytest.fixture
def draft():
    return form_version_create_draft(service=ServiceFactory(), definition=picker_definition())


@pytest.fixture
def client():
    return otp_force_login(Client(), FormEditorFactory())


def rules_url(version, element: str | None = NOTE, **query) -> str:
    url = reverse("admin:forms_catalog_formversion_designer_rules", args=[version.pk])
    params = {"element": element, **query} if element else query
    return url + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")


def fees_url(version) -> str:
    return reverse("admin:forms_catalog_formversion_designer_fees", args=[version.pk])


def condition_post(*rows, action="cond-save", combine="and") -> dict:
    data = {"action": action, "cond-count": str(len(rows)), "cond-combine": combine}
    for index, row in enumerate(rows):
        for key, value in row.items():
            data[f"cond-{index}-{key}"] = value
    return data


def test_only_editors_see_the_pages(draft):
    staff = otp_force_login(Client(), UserFactory())
    assert staff.get(rules_url(draft)).status_code == 403
    assert staff.get(fees_url(draft)).status_code == 403
    assert staff.post(rules_url(draft), condition_post()).status_code == 403
    anonymous = Client().get(rules_url(draft))
    assert anonymous.status_code == 302 and "/admin/login/" in anonymous["Location"]


def test_the_condition_picker_saves_a_condition_without_json(client, draft):
    page = client.get(rules_url(draft)).content.decode()
    assert "Anzeigen, wenn" in page and "alle Bedingungen zutreffen" in page
    # Only earlier fields are offered.
    select = page.split('id="id_cond-0-field"', 1)[1].split("</select>", 1)[0]
    assert 'value="kind"' in select and 'value="later"' not in select
    response = client.post(
        rules_url(draft), condition_post({"field": "kind", "op": "eq", "value": "b"})
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.definition["steps"][1]["fields"][0]["visible_if"] == {
        "eq": [{"field": "kind"}, "b"]
    }
    page = client.get(response["Location"]).content.decode()
    assert "Die Bedingung wurde gespeichert." in page
    assert '{"eq"' not in page and "visible_if" not in page


def test_a_refused_row_shows_its_german_error_there_and_keeps_every_input(client, draft):
    before = draft.checksum
    huge = "ä" * 3000
    response = client.post(
        rules_url(draft),
        condition_post(
            {"field": "name", "op": "eq", "value": "Meier"},
            {"field": "count", "op": "gt", "value": "zwölf"},
            {"field": "email", "op": "eq", "value": huge},
        ),
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert 'id="cond-1-value-error"' in page and "Bitte geben Sie eine Zahl ein" in page
    assert 'value="Meier"' in page and 'value="zwölf"' in page
    assert 'aria-describedby="cond-1-value-hint cond-1-value-error"' in page
    draft.refresh_from_db()
    assert draft.checksum == before
    response = client.post(
        rules_url(draft),
        condition_post(
            {"field": "name", "op": "eq", "value": "Meier"},
            {"field": "email", "op": "eq", "value": huge},
        ),
    )
    page = response.content.decode()
    assert "Der Wert ist zu lang" in page and 'id="cond-1-value-error"' in page


def test_forged_fields_later_fields_and_forged_elements(client, draft):
    page = client.post(
        rules_url(draft), condition_post({"field": "later", "op": "eq", "value": "x"})
    ).content.decode()
    assert "Bitte wählen Sie ein Feld, das vor diesem Element steht." in page
    forged = client.get(rules_url(draft, element="steps/weiteres/fields/nope"))
    assert forged.status_code == 404
    assert "Dieses Element gibt es in diesem Entwurf nicht" in forged.content.decode()
    assert client.get(rules_url(draft, element="x" * 5000)).status_code == 404
    assert client.get(rules_url(draft, element=None)).status_code == 200
    missing = reverse("admin:forms_catalog_formversion_designer_rules", args=[999999])
    assert client.get(missing).status_code == 404
    response = client.post(
        rules_url(draft), {"action": "rule-delete", "delete_rule": "forged"}, follow=True
    )
    assert "Diese Prüfregel gibt es nicht (mehr)." in response.content.decode()


def test_add_and_remove_rows_without_saving(client, draft):
    page = client.post(
        rules_url(draft),
        condition_post({"field": "kind", "op": "eq", "value": "a"}, action="cond-add"),
    ).content.decode()
    assert 'name="cond-count" value="2"' in page and "Bedingung 2 entfernen" in page
    page = client.post(
        rules_url(draft),
        condition_post(
            {"field": "kind", "op": "eq", "value": "a"},
            {"field": "member", "op": "eq", "value": "yes"},
            action="cond-remove-0",
        ),
    ).content.decode()
    assert 'name="cond-count" value="1"' in page
    assert '<option value="member" selected>' in page
    draft.refresh_from_db()
    assert "visible_if" not in draft.definition["steps"][1]["fields"][0]
    # A changed field: "Auswahl übernehmen" shows its operators and values.
    page = client.post(
        rules_url(draft), condition_post({"field": "start", "op": "eq"}, action="cond-refresh")
    ).content.decode()
    assert 'type="date"' in page and "frühestens" in page


def test_an_advanced_condition_is_shown_in_words_with_replace(client, draft):
    definition = draft.definition
    definition["steps"][1]["fields"][0]["visible_if"] = {"ge": [{"count": "people"}, 2]}
    draft.definition = definition
    draft.save()
    page = client.get(rules_url(draft)).content.decode()
    assert "Fortgeschrittene Bedingung:" in page
    assert "Anzahl der Einträge in „Personen“ ist mindestens 2" in page
    assert "Bedingung ersetzen" in page and 'name="cond-count"' not in page
    assert '{"count"' not in page
    page = client.get(rules_url(draft, ersetzen="1")).content.decode()
    assert 'name="cond-count"' in page and "Speichern ersetzt" in page


def test_validation_rule_via_the_page(client, draft):
    data = {
        "action": "rule-save",
        "rule-left": "end",
        "rule-op": "ge",
        "rule-right_kind": "field",
        "rule-right_field": "start",
        "rule-message_de": "Das Ende darf nicht vor dem Beginn liegen.",
        "rule-message_en": "",
        "rule-show_at": ["end"],
        "when-count": "0",
    }
    url = rules_url(draft, element="steps/angaben/fields/end")
    page = client.post(url, data).content.decode()
    assert "Bitte füllen Sie dieses Feld aus." in page
    assert "Das Ende darf nicht vor dem Beginn liegen." in page  # kept
    data["rule-message_en"] = "The end cannot be before the start."
    response = client.post(url, data)
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "„Ende“ ist mindestens „Beginn“" in page
    draft.refresh_from_db()
    assert draft.definition["steps"][0]["rules"][0]["fields"] == ["end"]
    # The message can only be shown at a field of the step.
    data["rule-show_at"] = ["note"]
    page = client.post(url, data).content.decode()
    assert "Bitte wählen Sie Felder dieses Schritts." in page


def test_published_version_is_shown_without_forms_and_posts_change_nothing(client, draft):
    form_version_publish_system(version=draft)
    page = client.get(rules_url(draft)).content.decode()
    assert "lässt sich nicht ändern" in page and 'name="cond-count"' not in page
    response = client.post(
        rules_url(draft), condition_post({"field": "kind", "op": "eq", "value": "b"}), follow=True
    )
    assert "kann nicht geändert werden" in response.content.decode()
    draft.refresh_from_db()
    assert "visible_if" not in draft.definition["steps"][1]["fields"][0]
    fees = client.post(
        fees_url(draft),
        {
            "action": "line-save",
            "line-label_de": "Gebühr",
            "line-label_en": "Fee",
            "line-amount_kind": "fixed",
            "line-amount": "25,00",
            "when-count": "0",
        },
        follow=True,
    )
    assert "kann nicht geändert werden" in fees.content.decode()
    draft.refresh_from_db()
    assert "fees" not in draft.definition


def test_fee_page_adds_a_fixed_line_and_previews_the_statement(client, draft):
    page = client.get(fees_url(draft)).content.decode()
    assert "Gebührenpositionen" in page and "Noch keine Gebührenpositionen." in page
    line = {
        "action": "line-save",
        "line-label_de": "Bearbeitungsgebühr",
        "line-label_en": "Processing fee",
        "line-amount_kind": "fixed",
        "line-amount": "25,5x",
        "line-for_each": "",
        "when-count": "0",
    }
    page = client.post(fees_url(draft), line).content.decode()
    assert "Bitte geben Sie einen Betrag in Euro an" in page and 'value="25,5x"' in page
    line["line-amount"] = "25,00"
    assert client.post(fees_url(draft), line).status_code == 302
    settings = {
        "action": "settings-save",
        "settings-kind": "gebuehr",
        "settings-period": "einmalig",
        "settings-payment": "appointment",
    }
    assert client.post(fees_url(draft), settings).status_code == 302
    page = client.get(fees_url(draft)).content.decode()
    assert "Bearbeitungsgebühr" in page and "25,00 €" in page
    assert "Bezahlt wird beim Termin vor Ort." in page
    draft.refresh_from_db()
    assert draft.definition["fees"]["lines"][0]["amount"] == 25
    param = {
        "action": "param-save",
        "param-label_de": "Satz",
        "param-label_en": "Rate",
        "param-money": "money",
        "param-default": "1.0.0",
        "param-local": "on",
    }
    page = client.post(fees_url(draft), param).content.decode()
    assert "Bitte geben Sie einen Betrag in Euro an" in page and 'value="1.0.0"' in page
    param["param-default"] = "50,00"
    assert client.post(fees_url(draft), param).status_code == 302
    page = client.get(fees_url(draft)).content.decode()
    assert "z. B. 50,00 €" in page
