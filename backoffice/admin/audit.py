"""The audit trail in the admin: read-only for everyone, leads see their offices' entries.

A lead sees the entries of their offices' cases (including other offices'
staff refused access to them), and the entries of their offices' staff that
belong to no office: lists, searches, exports, logins, logouts, failed logins.
Filters by action, user, office and period; every filter works inside that
scope, so a forged office or user id shows nothing beyond it.
"""

from __future__ import annotations

import datetime

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from municipalities.models import Office

from .. import case_selectors
from ..event_labels import audit_detail_display, local_time_display
from ..models import AuditEntry, StaffMembership
from .common import CappedCountPaginator, ReadOnlyMixin, ScopedObjectMixin, search_term_clean


def _lead_office_ids(request) -> set[int] | None:
    """The offices whose entries the user sees; None for platform administrators (all)."""
    if case_selectors.is_platform_admin(user=request.user):
        return None
    return case_selectors.office_ids_for_user(user=request.user, roles=(StaffMembership.Role.LEAD,))


class AuditOfficeFilter(admin.SimpleListFilter):
    title = _("Behörde")
    parameter_name = "behoerde"

    def lookups(self, request, model_admin):
        offices = Office.objects.all()
        scope = _lead_office_ids(request)
        if scope is not None:
            offices = offices.filter(id__in=scope)
        return [(str(pk), name) for pk, name in offices.order_by("name").values_list("id", "name")]

    def queryset(self, request, queryset):
        value = self.value()
        if value is None:
            return queryset
        if not value.isdigit() or len(value) > 18:
            return queryset.none()
        return queryset.filter(office_id=int(value))


class AuditActorFilter(admin.SimpleListFilter):
    title = _("Benutzer/in")
    parameter_name = "benutzer"

    def lookups(self, request, model_admin):
        users = get_user_model().objects.filter(is_staff=True)
        scope = _lead_office_ids(request)
        if scope is not None:
            users = users.filter(staff_memberships__office_id__in=scope)
        return [
            (str(user.pk), user.get_full_name() or user.username)
            for user in users.distinct().order_by("username")
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if value is None:
            return queryset
        if not value.isdigit() or len(value) > 18:
            return queryset.none()
        return queryset.filter(actor_id=int(value))


class AuditPeriodFilter(admin.SimpleListFilter):
    title = _("Zeitraum")
    parameter_name = "zeitraum"
    DAYS = {"heute": 0, "7": 7, "30": 30, "365": 365}

    def lookups(self, request, model_admin):
        return [
            ("heute", _("heute")),
            ("7", _("letzte 7 Tage")),
            ("30", _("letzte 30 Tage")),
            ("365", _("letzte 12 Monate")),
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if value is None:
            return queryset
        if value not in self.DAYS:
            return queryset.none()
        # Local calendar days: "heute" starts at local midnight.
        start = timezone.localdate() - datetime.timedelta(days=self.DAYS[value])
        since = timezone.make_aware(datetime.datetime.combine(start, datetime.time.min))
        return queryset.filter(created_at__gte=since)


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyMixin, ScopedObjectMixin, admin.ModelAdmin):
    list_display = (
        "created_display",
        "actor_display",
        "action",
        "reference",
        "office",
        "ip_address",
        "detail_display",
    )
    list_filter = ("action", AuditActorFilter, AuditOfficeFilter, AuditPeriodFilter)
    search_fields = ("reference", "actor_username")
    search_help_text = _("Aktenzeichen oder Benutzername (genau)")
    date_hierarchy = None
    show_full_result_count = False
    paginator = CappedCountPaginator
    list_select_related = ("office", "actor")
    readonly_fields = [f.name for f in AuditEntry._meta.fields]

    class Media:
        # The back office's look (underlined breadcrumb links: WCAG 1.4.1).
        css = {"all": ("backoffice/backoffice.css",)}

    @admin.display(description=_("Zeitpunkt"), ordering="created_at")
    def created_display(self, obj):
        return local_time_display(obj.created_at, seconds=True)

    @admin.display(description=_("Details"))
    def detail_display(self, obj):
        # Status codes and usernames of transitions and assignments in German words.
        return audit_detail_display(obj)

    @admin.display(description=_("Benutzer/in"), ordering="actor_username")
    def actor_display(self, obj):
        if obj.actor is not None:
            return obj.actor.get_full_name() or obj.actor.username
        return obj.actor_username or "–"

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        offices = _lead_office_ids(request)
        if offices is None:
            return queryset
        members = StaffMembership.objects.filter(office_id__in=offices).values("user_id")
        return queryset.filter(
            Q(office_id__in=offices) | Q(office__isnull=True, actor_id__in=members)
        )

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
