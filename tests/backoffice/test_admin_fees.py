"""Office leads set their own local fee parameters; nobody else's, and nothing else."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.test import Client
from django.utils import translation

from backoffice.roles import LEAD_GROUP
from forms_catalog.models import Service
from forms_catalog.selectors import calculate_fee, published_version
from forms_catalog.services import catalogue_load
from municipalities.model_fees import LocalFeeParameter
from municipalities.models import ResponsibilityRule
from municipalities.selectors import fee_parameters
from tests.backoffice.backoffice_support import make_staff
from tests.factories import GemeindeFactory, GemeindeverbandFactory, OfficeFactory
from tests.support.staff import otp_force_login

pytestmark = pytest.mark.django_db

ADD_URL = "/admin/municipalities/localfeeparameter/add/"
LIST_URL = "/admin/municipalities/localfeeparameter/"
ONE_DOG = {"dogs": [{"dog_name": "Bello", "dangerous": False}]}


def change_url(pk) -> str:
    return f"/admin/municipalities/localfeeparameter/{pk}/change/"


@pytest.fixture
def world():
    catalogue_load()
    service = Service.objects.get(slug="hundeanmeldung")
    ResponsibilityRule.objects.create(
        service=service, level=ResponsibilityRule.Level.MUNICIPAL_ADMINISTRATION
    )
    verband_a, verband_b = GemeindeverbandFactory(), GemeindeverbandFactory()
    gemeinde_a = GemeindeFactory(verband=verband_a, name="Adorf")
    gemeinde_b = GemeindeFactory(verband=verband_b, name="Bedorf")
    office_a = OfficeFactory(name="VG A", verband=verband_a)
    office_b = OfficeFactory(name="VG B", verband=verband_b)
    lead_a = make_staff("lead_a", "lead", [office_a])
    lead_b = make_staff("lead_b", "lead", [office_b])
    value_b = LocalFeeParameter.objects.create(
        service=service, verband=verband_b, key="rate_first", value=Decimal("66.00")
    )
    return {
        "service": service,
        "verband_a": verband_a,
        "verband_b": verband_b,
        "gemeinde_a": gemeinde_a,
        "gemeinde_b": gemeinde_b,
        "office_a": office_a,
        "office_b": office_b,
        "lead_a": lead_a,
        "lead_b": lead_b,
        "value_b": value_b,
    }


def post_data(world, **overrides) -> dict:
    data = {
        "service": world["service"].pk,
        "key": "rate_first",
        "value": "120.00",
        "verband": world["verband_a"].pk,
        "gemeinde": "",
        "valid_from": "2020-01-01",
        "valid_to": "",
        "note": "Hundesteuersatzung vom 1. 1. 2020",
    }
    data.update(overrides)
    return data


def citizen_fee(world, gemeinde) -> Decimal:
    service = world["service"]
    version = published_version(service=service)
    parameters = fee_parameters(service=service, gemeinde=gemeinde)
    return calculate_fee(version=version, answers=ONE_DOG, parameters=parameters).amount


def test_lead_role_carries_the_fee_permissions_and_clerks_do_not():
    lead = set(Group.objects.get(name=LEAD_GROUP).permissions.values_list("codename", flat=True))
    assert {
        "view_localfeeparameter",
        "add_localfeeparameter",
        "change_localfeeparameter",
        "delete_localfeeparameter",
    } <= lead
    for other in ("Sachbearbeitung", "Kompetenzzentrum"):
        codes = Group.objects.get(name=other).permissions.values_list("codename", flat=True)
        assert not any(code.endswith("localfeeparameter") for code in codes)
    # Nothing else of forms: no permission on the form definitions themselves.
    assert not Permission.objects.filter(
        group__name=LEAD_GROUP, content_type__app_label="forms_catalog"
    ).exists()


def test_lead_sets_the_dog_tax_and_the_citizen_fee_changes(world):
    gemeinde_a = world["gemeinde_a"]
    assert citizen_fee(world, gemeinde_a) == Decimal("50.00")  # the form's default
    page = world["lead_a"].client.get(ADD_URL)
    assert page.status_code == 200
    html = page.content.decode()
    assert "rate_dangerous" in html and "Steuersatz erster Hund" in html
    assert world["verband_a"].name in html and gemeinde_a.name in html
    assert world["verband_b"].name not in html and "Bedorf" not in html

    response = world["lead_a"].client.post(ADD_URL, post_data(world))
    assert response.status_code == 302, response.content.decode()[-3000:]
    saved = LocalFeeParameter.objects.get(verband=world["verband_a"])
    assert (saved.key, saved.value) == ("rate_first", Decimal("120.00"))
    assert citizen_fee(world, gemeinde_a) == Decimal("120.00")
    assert citizen_fee(world, world["gemeinde_b"]) == Decimal("66.00")

    service_page = Client().get(f"/gemeinden/{gemeinde_a.ags}/leistungen/hundeanmeldung/")
    assert service_page.status_code == 200
    assert "120.00 €" in service_page.content.decode() or "120,00 €" in (
        service_page.content.decode()
    )

    # A Gemeinde's own value wins over the Verband's.
    response = world["lead_a"].client.post(
        ADD_URL, post_data(world, verband="", gemeinde=gemeinde_a.pk, value="80")
    )
    assert response.status_code == 302
    assert citizen_fee(world, gemeinde_a) == Decimal("80.00")

    # Change and delete own values.
    response = world["lead_a"].client.post(change_url(saved.pk), post_data(world, value="99.5"))
    assert response.status_code == 302
    saved.refresh_from_db()
    assert saved.value == Decimal("99.50")
    delete = f"/admin/municipalities/localfeeparameter/{saved.pk}/delete/"
    assert world["lead_a"].client.post(delete, {"post": "yes"}).status_code == 302
    assert not LocalFeeParameter.objects.filter(pk=saved.pk).exists()


def test_other_office_lead_sees_nothing_of_a(world):
    own = LocalFeeParameter.objects.create(
        service=world["service"], verband=world["verband_a"], key="rate_first", value=100
    )
    on_gemeinde = LocalFeeParameter.objects.create(
        service=world["service"], gemeinde=world["gemeinde_a"], key="rate_second", value=1
    )
    client = world["lead_b"].client
    listing = client.get(LIST_URL)
    assert [row.pk for row in listing.context["cl"].result_list] == [world["value_b"].pk]
    assert "100,00" not in listing.content.decode()
    searched = client.get(f"{LIST_URL}?q=rate_second")
    assert searched.context["cl"].result_count == 0
    for target in (own, on_gemeinde):
        base = f"/admin/municipalities/localfeeparameter/{target.pk}"
        assert client.get(f"{base}/change/").status_code == 404
        assert client.get(f"{base}/history/").status_code == 404
        assert client.get(f"{base}/delete/").status_code == 404
        assert client.post(f"{base}/delete/", {"post": "yes"}).status_code == 404
        forged = post_data(world, verband=world["verband_b"].pk, value="1")
        assert client.post(f"{base}/change/", forged).status_code == 404
    # Bulk delete through the list action only ever reaches the user's own rows.
    client.post(
        LIST_URL,
        {"action": "delete_selected", "_selected_action": [own.pk, on_gemeinde.pk], "post": "yes"},
    )
    own.refresh_from_db()
    on_gemeinde.refresh_from_db()
    assert own.value == Decimal("100.00") and on_gemeinde.value == Decimal("1.00")
    # Non-numeric and forged IDs are 404 as well.
    assert client.get(f"{LIST_URL}abc/change/").status_code == 404
    assert client.get(f"{LIST_URL}999999999/change/").status_code == 404


@pytest.mark.parametrize("target", ["verband", "gemeinde"])
def test_forged_post_naming_another_verband_or_gemeinde_is_refused(world, target):
    client = world["lead_a"].client
    data = (
        post_data(world, verband=world["verband_b"].pk)
        if target == "verband"
        else post_data(world, verband="", gemeinde=world["gemeinde_b"].pk)
    )
    response = client.post(ADD_URL, data)
    assert response.status_code == 200
    assert "errornote" in response.content.decode()
    assert LocalFeeParameter.objects.count() == 1  # only B's own value
    # Moving B's value to A's own Verband through A's change page: not reachable at all.
    value_b = world["value_b"]
    assert client.post(change_url(value_b.pk), post_data(world)).status_code == 404
    value_b.refresh_from_db()
    assert value_b.verband == world["verband_b"]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("value", "-10", "nicht negativ"),
        ("value", "100000000", ""),
        ("value", "1e20", ""),
        ("value", "NaN", ""),
        ("value", "Infinity", ""),
        ("value", "zwölf", ""),
        ("value", "<script>alert(1)</script>", ""),
        ("value", "1" * 5000, ""),
        ("key", "hundesteuer_geheim", "kein veröffentlichtes Formular"),
        ("key", "<script>x</script>", "kein veröffentlichtes Formular"),
        ("key", "rate\x00first", ""),
        ("verband", "", "entweder einen Gemeindeverband oder eine Gemeinde"),
        ("service", "999999", ""),
        ("service", "abc", ""),
    ],
)
def test_hostile_input_is_refused_with_a_form_error(world, field, value, message):
    response = world["lead_a"].client.post(ADD_URL, post_data(world, **{field: value}))
    assert response.status_code == 200
    html = response.content.decode()
    assert "errornote" in html
    assert "<script>alert(1)</script>" not in html and "<script>x</script>" not in html
    if message:
        assert message in html
    assert not LocalFeeParameter.objects.filter(verband=world["verband_a"]).exists()


def test_both_verband_and_gemeinde_is_refused(world):
    response = world["lead_a"].client.post(
        ADD_URL, post_data(world, gemeinde=world["gemeinde_a"].pk)
    )
    assert response.status_code == 200
    assert "entweder einen Gemeindeverband oder eine Gemeinde" in response.content.decode()
    assert LocalFeeParameter.objects.count() == 1


def test_key_of_another_service_is_refused(world):
    # Each key must be declared by the chosen service's published form: the
    # Gewerbe form's "fee" is no dog tax, the dog tax rates are no Gewerbe fee.
    gewerbe = Service.objects.get(slug="gewerbe-anmeldung")
    for data in (post_data(world, key="fee"), post_data(world, service=gewerbe.pk)):
        response = world["lead_a"].client.post(ADD_URL, data)
        assert response.status_code == 200
        assert "sieht den Schlüssel" in response.content.decode()
    # A service whose form declares no parameters is not offered at all.
    wohngeld = Service.objects.get(slug="wohngeld-mietzuschuss")
    response = world["lead_a"].client.post(ADD_URL, post_data(world, service=wohngeld.pk))
    assert response.status_code == 200
    assert "errornote" in response.content.decode()
    assert not LocalFeeParameter.objects.filter(verband=world["verband_a"]).exists()
    # The Gewerbe fee itself is the lead's to set.
    response = world["lead_a"].client.post(
        ADD_URL, post_data(world, service=gewerbe.pk, key="fee", value="25")
    )
    assert response.status_code == 302


@pytest.mark.parametrize("role", ["clerk", "kompetenzzentrum"])
def test_clerk_and_kompetenzzentrum_cannot_touch_fee_parameters(world, role):
    staff = make_staff(f"nope_{role}", role, [world["office_a"]] if role == "clerk" else [])
    client = staff.client
    value_b = world["value_b"]
    assert client.get(LIST_URL).status_code == 403
    assert client.get(ADD_URL).status_code == 403
    assert client.post(ADD_URL, post_data(world)).status_code == 403
    for suffix in ("change", "history", "delete"):
        url = f"{LIST_URL}{value_b.pk}/{suffix}/"
        assert client.get(url).status_code in (403, 404)
    assert client.post(change_url(value_b.pk), post_data(world)).status_code in (403, 404)
    assert client.post(f"{LIST_URL}{value_b.pk}/delete/", {"post": "yes"}).status_code in (
        403,
        404,
    )
    assert LocalFeeParameter.objects.count() == 1
    value_b.refresh_from_db()
    assert value_b.value == Decimal("66.00")
    assert "localfeeparameter" not in client.get("/admin/").content.decode()


def test_lead_without_a_verband_office_gets_no_access(world):
    kreis_office = OfficeFactory(name="Landratsamt", verband=None)
    staff = make_staff("lead_kreis", "lead", [kreis_office])
    assert staff.client.get(LIST_URL).status_code == 403
    assert staff.client.post(ADD_URL, post_data(world)).status_code == 403


def test_lead_sees_no_other_municipal_data(world):
    client = world["lead_a"].client
    for model in ("gemeinde", "gemeindeverband", "office", "responsibilityrule"):
        assert client.get(f"/admin/municipalities/{model}/").status_code == 403
    assert client.get("/admin/forms_catalog/formversion/").status_code == 403
    autocomplete = client.get(
        "/admin/autocomplete/",
        {
            "app_label": "municipalities",
            "model_name": "localfeeparameter",
            "field_name": "gemeinde",
            "term": "Bedorf",
        },
    )
    assert autocomplete.status_code == 403


def test_superuser_keeps_full_access(world, client):
    admin_user = get_user_model().objects.create_superuser("root", "root@example.org", "pw-1234567")
    otp_force_login(client, admin_user)
    assert client.get(change_url(world["value_b"].pk)).status_code == 200
    response = client.post(
        ADD_URL, post_data(world, verband=world["verband_b"].pk, key="rate_dangerous")
    )
    assert response.status_code == 302
    assert LocalFeeParameter.objects.filter(verband=world["verband_b"]).count() == 2
    assert citizen_fee(world, world["gemeinde_b"]) == Decimal("66.00")


def test_platform_admin_group_keeps_full_access(world):
    staff = make_staff("platform_x", "platform")
    assert staff.client.get(change_url(world["value_b"].pk)).status_code == 200


def test_roles_migration_reapplies_the_lead_permissions():
    from django.apps import apps

    from backoffice.roles import ensure_roles

    group = Group.objects.get(name=LEAD_GROUP)
    group.permissions.clear()
    ensure_roles(apps=apps)
    assert group.permissions.filter(codename="change_localfeeparameter").exists()


def test_error_messages_are_translated_to_english(world):
    client = world["lead_a"].client
    # The locale middleware activates English for the thread; restore the
    # language afterwards so later tests see German again.
    with translation.override(translation.get_language()):
        response = client.post(ADD_URL, post_data(world, value="-1"), HTTP_ACCEPT_LANGUAGE="en")
        assert "The amount must not be negative." in response.content.decode()
        response = client.post(ADD_URL, post_data(world, key="fee"), HTTP_ACCEPT_LANGUAGE="en")
        assert "does not provide for the key “fee”" in response.content.decode()
