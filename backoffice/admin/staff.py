"""Which staff member works for which office, in which role (platform administrators)."""

from __future__ import annotations

from django.contrib import admin

from ..models import StaffMembership


@admin.register(StaffMembership)
class StaffMembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "role", "office", "created_at")
    list_filter = ("role",)
    search_fields = ("user__username", "office__name")
    autocomplete_fields = ()
    raw_id_fields = ("user", "office")
