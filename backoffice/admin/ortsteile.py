"""Offices maintain the Ortsteile (and former names) of their own Gemeinden, scoped on the server.

Replaces the `municipalities` admin of `GemeindeAlias` (municipalities must not
know about staff and offices). The list, the object views and the Gemeinde
choice are limited to `fee_selectors.alias_gemeinden_for_user`: another
office's entry is a 404, a forged POST naming another Gemeinde a form error.
"""

from __future__ import annotations

from django.contrib import admin

import municipalities.admin as municipalities_admin
from municipalities.models import GemeindeAlias

from .. import fee_selectors
from .common import InScopeOnlyMixin, ScopedObjectMixin

if admin.site.is_registered(GemeindeAlias):
    admin.site.unregister(GemeindeAlias)


@admin.register(GemeindeAlias)
class ScopedGemeindeAliasAdmin(
    InScopeOnlyMixin, ScopedObjectMixin, municipalities_admin.GemeindeAliasAdmin
):
    def get_queryset(self, request):
        allowed = fee_selectors.alias_gemeinden_for_user(user=request.user)
        return super().get_queryset(request).filter(gemeinde__in=allowed)

    def get_autocomplete_fields(self, request):
        # Leads pick from their own short list; the Gemeinde autocomplete is not theirs.
        return [] if not request.user.is_superuser else super().get_autocomplete_fields(request)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "gemeinde":
            kwargs["queryset"] = fee_selectors.alias_gemeinden_for_user(user=request.user).order_by(
                "name"
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def _in_scope(self, request) -> bool:
        return not fee_selectors.alias_scope_for_user(user=request.user).empty
