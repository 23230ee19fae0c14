"""The catalogue's service admin with the retention period guarded and audited.

`Service.retention_days` decides when the portal erases citizens' data of
decided cases statewide (`retention.py`). forms_catalog shows it read-only to
everyone but superusers; this subclass (registered in its place, as
`admin.fees` does for fee parameters) writes a change only through
`retention.service_retention_set`, which checks the role again and audits.
"""

from __future__ import annotations

from django.contrib import admin

import forms_catalog.admin as catalogue_admin
from forms_catalog.models import Service
from submissions.client_address import client_address_resolve

from ..retention import service_retention_set

if admin.site.is_registered(Service):
    admin.site.unregister(Service)


@admin.register(Service)
class RetentionGuardedServiceAdmin(catalogue_admin.ServiceAdmin):
    def save_model(self, request, obj, form, change):
        if "retention_days" not in form.changed_data:
            super().save_model(request, obj, form, change)
            return
        days = obj.retention_days
        if change:
            # Everything else as usual; the retention period through its service.
            obj.retention_days = form.initial["retention_days"]
        else:
            obj.retention_days = Service._meta.get_field("retention_days").default
        super().save_model(request, obj, form, change)
        service_retention_set(
            service=obj,
            days=days,
            actor=request.user,
            ip_address=client_address_resolve(request=request),
        )
