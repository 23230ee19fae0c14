"""List filters of the case list: age, Gemeinde, assignee, office, period (choices scoped to the
user's offices). The office overview's figures link to the list with these filters set."""

from __future__ import annotations

import datetime

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from municipalities.models import Gemeinde, Office

from .. import case_selectors
from ..workbench_selectors import due_q


class AgeFilter(admin.SimpleListFilter):
    title = _("Alter")
    parameter_name = "alter"

    def lookups(self, request, model_admin):
        return [(str(i), label) for i, (label, _s, _e) in enumerate(case_selectors.AGE_BUCKETS)]

    def queryset(self, request, queryset):
        value = self.value()
        if value is None:
            return queryset
        try:
            _label, start, end = case_selectors.AGE_BUCKETS[int(value)]
        except (ValueError, IndexError):
            return queryset.none()
        return queryset.filter(
            case_selectors.age_bucket_q(from_days=start, to_days=end, now=timezone.now())
        )


class GemeindeFilter(admin.SimpleListFilter):
    title = _("Gemeinde")
    parameter_name = "gemeinde"

    def lookups(self, request, model_admin):
        gemeinden = Gemeinde.objects.all()
        if not case_selectors.is_platform_admin(user=request.user):
            # The Gemeinden an office serves, from the structure (not from a
            # scan of its cases): its Verband's or Kreis's members, and exceptions.
            offices = case_selectors.office_ids_for_user(user=request.user)
            gemeinden = gemeinden.filter(
                Q(verband__office__id__in=offices)
                | Q(kreis__office__id__in=offices)
                | Q(responsibility_exceptions__office_id__in=offices)
            ).distinct()
        return [(str(g.pk), f"{g.name} ({g.ags})") for g in gemeinden.order_by("name")]

    def queryset(self, request, queryset):
        value = self.value()
        if value is None:
            return queryset
        if not value.isdigit():
            return queryset.none()
        return queryset.filter(gemeinde_id=int(value))


class AssignedFilter(admin.SimpleListFilter):
    title = _("zugewiesen an")
    parameter_name = "bearbeitung"

    def lookups(self, request, model_admin):
        choices = [("mir", _("mir")), ("niemand", _("niemandem"))]
        offices = case_selectors.office_ids_for_user(user=request.user)
        staff = (
            get_user_model()
            .objects.filter(
                is_active=True,
                staff_memberships__office_id__in=offices,
                staff_memberships__role__in=case_selectors.OFFICE_ROLES,
            )
            .distinct()
            .order_by("username")
        )
        choices += [(str(user.pk), user.get_full_name() or user.username) for user in staff]
        return choices

    def queryset(self, request, queryset):
        value = self.value()
        if value is None:
            return queryset
        if value == "mir":
            return queryset.filter(assigned_to=request.user)
        if value == "niemand":
            return queryset.filter(assigned_to__isnull=True)
        if not value.isdigit():
            return queryset.none()
        return queryset.filter(assigned_to_id=int(value))


class OfficeFilter(admin.SimpleListFilter):
    title = _("Behörde")
    parameter_name = "behoerde"

    def lookups(self, request, model_admin):
        offices = Office.objects.all()
        if not case_selectors.is_platform_admin(user=request.user):
            offices = offices.filter(id__in=case_selectors.office_ids_for_user(user=request.user))
        return [(str(pk), name) for pk, name in offices.order_by("name").values_list("id", "name")]

    def queryset(self, request, queryset):
        value = self.value()
        if value is None:
            return queryset
        if not value.isdigit():
            return queryset.none()
        # The queryset is already the user's scope: another office's id gives nothing.
        return queryset.filter(office_id=int(value))


# The overview's throughput covers the last 30 days.
PERIOD_DAYS = 30


class PeriodFilter(admin.SimpleListFilter):
    title = _("Zeitraum")
    parameter_name = "zeitraum"

    def lookups(self, request, model_admin):
        return [
            ("eingang30", _("eingegangen in den letzten 30 Tagen")),
            ("entschieden30", _("abgeschlossen in den letzten 30 Tagen")),
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if value is None:
            return queryset
        since = timezone.now() - datetime.timedelta(days=PERIOD_DAYS)
        if value == "eingang30":
            return queryset.filter(submitted_at__gte=since)
        if value == "entschieden30":
            return queryset.filter(decided_at__gte=since)
        return queryset.none()


class DueFilter(admin.SimpleListFilter):
    """The start page's "Überfällig / Wiedervorlage fällig" as a list filter (one condition,
    `workbench_selectors.due_q`, for both)."""

    title = _("fällig")
    parameter_name = "faellig"

    def lookups(self, request, model_admin):
        return [("ja", _("Wiedervorlage fällig / überfällig"))]

    def queryset(self, request, queryset):
        value = self.value()
        if value is None:
            return queryset
        if value != "ja":
            return queryset.none()
        return queryset.filter(due_q(today=timezone.localdate()))
