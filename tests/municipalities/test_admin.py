"""Admin of the municipal data: every list renders, searches and filters with few queries."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth import get_user_model

from forms_catalog.models import Service
from municipalities.models import Gemeinde, ResponsibilityException, ResponsibilityRule
from tests.support.staff import otp_force_login

pytestmark = pytest.mark.django_db

CHANGELISTS = [
    ("land", ""),
    ("kreis", "?q=Ilm&kind__exact=44"),
    ("gemeindeverband", "?q=Uder&gueltig=aktuell"),
    ("gemeinde", "?q=Erfurt&gueltig=aktuell"),
    ("gemeinde", "?q=07646"),
    ("gemeinde", "?gueltig=aufgeloest"),
    ("postcode", "?q=07646"),
    ("office", "?q=Landratsamt&is_active__exact=1"),
    ("responsibilityrule", "?gueltig=aktuell"),
    ("responsibilityexception", "?q=Eisenach"),
    ("localfeeparameter", ""),
    ("gemeindealias", "?q=Hoch&kind__exact=ortsteil&gueltig=aktuell"),
    ("dataedition", ""),
]


@pytest.fixture
def staff_client(client):
    user = get_user_model().objects.create_superuser("admin", "admin@example.org", "pw-123456789")
    return otp_force_login(client, user)


@pytest.mark.parametrize(("model", "query"), CHANGELISTS)
def test_changelists_render_with_bounded_queries(
    thueringen, staff_client, django_assert_max_num_queries, model, query
):
    with django_assert_max_num_queries(15):
        response = staff_client.get(f"/admin/municipalities/{model}/{query}")
    assert response.status_code == 200


def test_official_units_are_read_only(thueringen, staff_client):
    gemeinde = Gemeinde.objects.get(ags="16061119")
    response = staff_client.post(
        f"/admin/municipalities/gemeinde/{gemeinde.pk}/change/", {"name": "Umbenannt"}
    )
    gemeinde.refresh_from_db()
    assert gemeinde.name == "Uder"
    assert response.status_code in (200, 302, 403)
    assert staff_client.get("/admin/municipalities/gemeinde/add/").status_code == 403


def test_exception_validity_is_editable(thueringen, staff_client):
    exception = ResponsibilityException.objects.get(
        service__slug="wohngeld-mietzuschuss", gemeinde__ags="16067029"
    )
    response = staff_client.post(
        f"/admin/municipalities/responsibilityexception/{exception.pk}/change/",
        {
            "service": exception.service_id,
            "gemeinde": exception.gemeinde_id,
            "office": exception.office_id,
            "valid_from": "1990-10-03",
            "valid_to": "2026-12-31",
            "legal_basis": "befristet",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    exception.refresh_from_db()
    assert exception.valid_to == datetime.date(2026, 12, 31)


def test_rule_can_be_added_in_the_admin(thueringen, staff_client):
    service = Service.objects.get(slug="reisepass")
    response = staff_client.post(
        "/admin/municipalities/responsibilityrule/add/",
        {"service": service.pk, "level": "kreis", "valid_from": "2030-01-01", "legal_basis": ""},
    )
    assert response.status_code == 302
    assert ResponsibilityRule.objects.filter(service=service).count() == 2
