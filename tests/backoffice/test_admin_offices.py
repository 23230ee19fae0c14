"""Issue 13 (problem 12): office leads keep their own offices' contact data; nobody else's,
and nothing but the contact data."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import translation

from backoffice.roles import CLERK_GROUP, LEAD_GROUP
from tests.backoffice.backoffice_support import make_staff
from tests.factories import OfficeFactory
from tests.support.staff import otp_force_login

pytestmark = pytest.mark.django_db

LIST_URL = "/admin/backoffice/officecontact/"


def change_url(pk) -> str:
    return f"{LIST_URL}{pk}/change/"


@pytest.fixture
def world():
    office_a = OfficeFactory(
        name="VG A",
        street="Markt 1",
        postcode="98634",
        city="Adorf",
        notification_email="eingang@vg-a.example",
        webhook_url="https://vg-a.example/hook",
    )
    office_b = OfficeFactory(name="VG B", phone="03601 1234", city="Bedorf")
    return {
        "office_a": office_a,
        "office_b": office_b,
        "lead_a": make_staff("lead_a", "lead", [office_a]),
        "lead_b": make_staff("lead_b", "lead", [office_b]),
    }


def contact_data(**overrides) -> dict:
    data = {
        "street": "Rathausplatz 2",
        "postcode": "98634",
        "city": "Adorf",
        "phone": "+49 (36946) 123-0",
        "email": "buergerbuero@vg-a.example",
        "website": "https://www.vg-a.example/buergerbuero",
        "opening_hours": "Mo, Di, Do 9–12 Uhr\nDi 14–18 Uhr",
    }
    data.update(overrides)
    return data


def test_lead_role_may_view_and_change_office_contacts_and_clerks_may_not():
    lead = set(Group.objects.get(name=LEAD_GROUP).permissions.values_list("codename", flat=True))
    assert {"view_officecontact", "change_officecontact"} <= lead
    assert not {"add_officecontact", "delete_officecontact", "change_office"} & lead
    clerk = Group.objects.get(name=CLERK_GROUP).permissions.values_list("codename", flat=True)
    assert not any(code.endswith("officecontact") for code in clerk)


def test_lead_edits_the_contact_data_of_their_own_office(world):
    client, office = world["lead_a"].client, world["office_a"]
    listing = client.get(LIST_URL)
    assert [row.pk for row in listing.context["cl"].result_list] == [office.pk]
    page = client.get(change_url(office.pk))
    assert page.status_code == 200
    html = page.content.decode()
    for routing in ("notification_email", "webhook_url", "webhook_secret", "is_active", "kind"):
        assert f'name="{routing}"' not in html
    response = client.post(change_url(office.pk), contact_data())
    assert response.status_code == 302, response.content.decode()[-3000:]
    office.refresh_from_db()
    assert office.street == "Rathausplatz 2"
    assert office.phone == "+49 (36946) 123-0"
    assert office.website == "https://www.vg-a.example/buergerbuero"
    assert office.opening_hours == "Mo, Di, Do 9–12 Uhr\nDi 14–18 Uhr"


def test_routing_and_name_cannot_be_changed_through_the_contact_page(world):
    office = world["office_a"]
    forged = contact_data(
        name="Übernommen",
        notification_email="angreifer@example.org",
        webhook_url="https://angreifer.example/",
        webhook_secret="x",
        is_active="",
    )
    assert world["lead_a"].client.post(change_url(office.pk), forged).status_code == 302
    office.refresh_from_db()
    assert office.name == "VG A"
    assert office.notification_email == "eingang@vg-a.example"
    assert office.webhook_url == "https://vg-a.example/hook"
    assert office.is_active


def test_lead_of_office_a_cannot_see_or_edit_office_b(world):
    client, office_b = world["lead_a"].client, world["office_b"]
    base = f"{LIST_URL}{office_b.pk}"
    assert client.get(f"{base}/change/").status_code == 404
    assert client.get(f"{base}/history/").status_code == 404
    assert client.post(f"{base}/change/", contact_data(phone="0000")).status_code == 404
    assert client.get(f"{base}/delete/").status_code in (403, 404)
    office_b.refresh_from_db()
    assert office_b.phone == "03601 1234"
    assert "VG B" not in client.get(f"{LIST_URL}?q=VG").content.decode()
    assert client.get(f"{LIST_URL}abc/change/").status_code == 404
    assert client.get(f"{LIST_URL}999999999/change/").status_code == 404
    # Neither adding offices nor the routing admin of offices.
    assert client.get(f"{LIST_URL}add/").status_code == 403
    assert client.get("/admin/municipalities/office/").status_code == 403


def test_clerk_gets_no_contact_page(world):
    clerk = make_staff("clerk_a", "clerk", [world["office_a"]])
    assert clerk.client.get(LIST_URL).status_code == 403
    response = clerk.client.post(change_url(world["office_a"].pk), contact_data())
    assert response.status_code in (403, 404)
    world["office_a"].refresh_from_db()
    assert world["office_a"].street == "Markt 1"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("phone", "ruf mich an", "Bitte geben Sie die Telefonnummer nur mit Ziffern"),
        ("phone", "+++---", "Bitte geben Sie die Telefonnummer nur mit Ziffern"),
        ("email", "buergerbuero(at)vg-a", "Bitte geben Sie eine gültige E-Mail-Adresse an"),
        ("website", "javascript:alert(1)", "Bitte geben Sie eine vollständige Webadresse an"),
        ("website", "ftp://vg-a.example/", "Bitte geben Sie eine vollständige Webadresse an"),
        ("postcode", "9863", "Die Postleitzahl besteht aus genau fünf Ziffern."),
        ("opening_hours", "Mo 9–12 Uhr\n" * 200, "höchstens 1000 Zeichen"),
    ],
)
def test_invalid_contact_value_gets_a_german_message_and_keeps_the_rest(
    world, field, value, message
):
    office = world["office_a"]
    response = world["lead_a"].client.post(change_url(office.pk), contact_data(**{field: value}))
    assert response.status_code == 200
    html = response.content.decode()
    assert message in html
    form = response.context["adminform"].form
    assert field in form.errors
    kept = {k: v for k, v in contact_data().items() if k != field}
    for name, typed in kept.items():
        assert form[name].value() == typed, name
    office.refresh_from_db()
    assert office.street == "Markt 1"  # nothing saved


def test_error_messages_in_english_for_an_english_browser(world):
    client, office = world["lead_a"].client, world["office_a"]
    with translation.override(translation.get_language()):
        response = client.post(
            change_url(office.pk), contact_data(phone="ruf an"), HTTP_ACCEPT_LANGUAGE="en"
        )
    assert "Please enter the phone number with digits" in response.content.decode()


def test_superuser_sees_every_office(world, client):
    root = get_user_model().objects.create_superuser("root", "root@example.org", "pw-1234567")
    otp_force_login(client, root)
    assert client.get(change_url(world["office_b"].pk)).status_code == 200
    listing = client.get(LIST_URL)
    assert {row.pk for row in listing.context["cl"].result_list} >= {
        world["office_a"].pk,
        world["office_b"].pk,
    }
