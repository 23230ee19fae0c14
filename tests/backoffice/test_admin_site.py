"""The admin site's own pages: old addresses of the models that moved to the back office."""

from __future__ import annotations

import pytest

from backoffice.models import AuditEntry
from tests.backoffice.backoffice_support import make_staff

pytestmark = pytest.mark.django_db


def test_old_admin_addresses_of_moved_models_lead_to_their_new_ones():
    admin = make_staff("platform_admin", "platform")
    entry = AuditEntry.objects.create(actor_username="x", action=AuditEntry.Action.VIEW_LIST)
    for old, new in [
        ("/admin/submissions/auditentry/", "/admin/backoffice/auditentry/"),
        (
            f"/admin/submissions/auditentry/{entry.pk}/change/?_popup=1",
            f"/admin/backoffice/auditentry/{entry.pk}/change/?_popup=1",
        ),
        ("/admin/submissions/staffmembership/", "/admin/backoffice/staffmembership/"),
    ]:
        response = admin.client.get(old)
        assert (response.status_code, response["Location"]) == (301, new)
    assert admin.client.get("/admin/backoffice/auditentry/").status_code == 200
    # Models that stay keep their addresses.
    assert admin.client.get("/admin/submissions/submission/").status_code == 200
    assert admin.client.get("/admin/submissions/delivery/").status_code == 200
