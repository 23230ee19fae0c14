"""The audit trail in the admin: read-only for everyone, leads see their offices' entries."""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Q

from .. import case_selectors
from ..models import AuditEntry, StaffMembership
from .common import CappedCountPaginator, ReadOnlyMixin, ScopedObjectMixin, search_term_clean


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyMixin, ScopedObjectMixin, admin.ModelAdmin):
    list_display = ("created_at", "actor_username", "action", "reference", "office", "ip_address")
    list_filter = ("action",)
    search_fields = ("reference", "actor_username")
    date_hierarchy = None
    show_full_result_count = False
    paginator = CappedCountPaginator
    list_select_related = ("office",)
    readonly_fields = [f.name for f in AuditEntry._meta.fields]

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if case_selectors.is_platform_admin(user=request.user):
            return queryset
        offices = case_selectors.office_ids_for_user(
            user=request.user, roles=(StaffMembership.Role.LEAD,)
        )
        return queryset.filter(office_id__in=offices)

    def get_search_results(self, request, queryset, search_term):
        term = search_term_clean(search_term)
        if not term:
            return queryset, False
        return queryset.filter(Q(reference=term.upper()) | Q(actor_username=term)), False

    def get_actions(self, request):
        return {}

    def delete_view(self, request, object_id, extra_context=None):
        self._require_visible(request, object_id)
        raise PermissionDenied
