"""The service admin's retention period: platform administrators only, bounded, audited."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms.models import model_to_dict

from backoffice.models import AuditEntry
from backoffice.retention import service_retention_set
from forms_catalog.models import Service
from tests.backoffice.backoffice_support import make_staff, two_offices
from tests.factories import ServiceFactory

pytestmark = pytest.mark.django_db


def _change_url(service: Service) -> str:
    return f"/admin/forms_catalog/service/{service.pk}/change/"


def _post_data(service: Service, **changes) -> dict:
    data = {k: v for k, v in model_to_dict(service).items() if v is not None}
    data.update(changes, _save="Sichern")
    return data


def test_kompetenzzentrum_cannot_set_retention_days_to_zero_with_a_forged_post():
    service = ServiceFactory(retention_days=730)
    editor = make_staff("kz_retention", "kompetenzzentrum")
    page = editor.client.get(_change_url(service))
    assert page.status_code == 200
    # Shown, but not as an input.
    assert "730" in page.content.decode()
    assert 'name="retention_days"' not in page.content.decode()
    response = editor.client.post(
        _change_url(service), _post_data(service, retention_days="0", name_de="Neuer Name")
    )
    # The rest of the form is the editor's to change; the retention period is not.
    assert response.status_code == 302
    service.refresh_from_db()
    assert service.name_de == "Neuer Name"
    assert service.retention_days == 730
    assert not AuditEntry.objects.filter(action=AuditEntry.Action.CHANGE_RETENTION).exists()


def test_kompetenzzentrum_cannot_create_a_service_with_retention_zero():
    editor = make_staff("kz_retention_add", "kompetenzzentrum")
    data = {
        "slug": "schnell-loeschen",
        "name_de": "Schnell löschen",
        "name_en": "Erase fast",
        "retention_days": "0",
        "sort_order": "1",
        "is_active": "on",
        "_save": "Sichern",
    }
    response = editor.client.post("/admin/forms_catalog/service/add/", data)
    assert response.status_code == 302
    assert Service.objects.get(slug="schnell-loeschen").retention_days == 365


def test_platform_administrator_changes_retention_within_the_minimum_and_it_is_audited():
    assert settings.PORTAL_MIN_RETENTION_DAYS == 365
    service = ServiceFactory(retention_days=730)
    admin = make_staff("platform_retention", "platform")
    response = admin.client.post(_change_url(service), _post_data(service, retention_days="0"))
    assert response.status_code == 200
    assert "mindestens 365 Tage" in response.content.decode()
    response = admin.client.post(_change_url(service), _post_data(service, retention_days="364"))
    assert response.status_code == 200
    service.refresh_from_db()
    assert service.retention_days == 730
    assert not AuditEntry.objects.filter(action=AuditEntry.Action.CHANGE_RETENTION).exists()

    response = admin.client.post(_change_url(service), _post_data(service, retention_days="3650"))
    assert response.status_code == 302
    service.refresh_from_db()
    assert service.retention_days == 3650
    entry = AuditEntry.objects.get(action=AuditEntry.Action.CHANGE_RETENTION)
    assert entry.actor == admin.user
    assert entry.detail == f"service {service.slug}: retention_days 730 -> 3650"
    assert entry.ip_address == "127.0.0.1"
    # Saving the form again without a change writes no second entry.
    admin.client.post(_change_url(service), _post_data(service))
    assert AuditEntry.objects.filter(action=AuditEntry.Action.CHANGE_RETENTION).count() == 1


def test_retention_service_refuses_everyone_but_platform_administrators():
    service = ServiceFactory(retention_days=730)
    editor = make_staff("kz_direct", "kompetenzzentrum", login=False)
    lead = make_staff("lead_direct", "lead", [two_offices()[0]], login=False)
    for user in [editor.user, lead.user, None]:
        with pytest.raises(PermissionDenied):
            service_retention_set(service=service, days=3650, actor=user)
    admin = make_staff("platform_direct", "platform", login=False)
    with pytest.raises(ValidationError):
        service_retention_set(service=service, days=-1, actor=admin.user)
    service.refresh_from_db()
    assert service.retention_days == 730
