"""The admin site of the portal: two-factor login for all staff, back-office overview pages."""

from __future__ import annotations

import datetime

from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_otp.admin import OTPAdminAuthenticationForm, OTPAdminSite
from django_otp.forms import OTPAuthenticationFormMixin
from django_otp.plugins.otp_totp.models import TOTPDevice

from . import case_selectors
from .casework import audit_record
from .client_address import client_address_resolve
from .models import AuditEntry

STATEWIDE_CACHE_SECONDS = 10 * 60


class PortalLoginForm(OTPAdminAuthenticationForm):
    """Password plus the code of the staff member's authenticator app (their TOTP device)."""

    otp_error_messages = {
        **OTPAuthenticationFormMixin.otp_error_messages,
        "token_required": _("Bitte geben Sie den Einmalcode aus Ihrer Authenticator-App ein."),
        "invalid_token": _("Der Einmalcode ist falsch oder abgelaufen."),
        "device_required": _("Für dieses Konto ist keine Authenticator-App eingerichtet."),
    }

    def _chosen_device(self, user):
        device = super()._chosen_device(user)
        if device is None:
            # Staff have one authenticator app; no device picker on the form.
            device = TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()
        return device


class PortalAdminSite(OTPAdminSite):
    """Staff log in with password and a TOTP code; unverified sessions count as no access."""

    site_header = _("Thüringen-Portal – Verwaltung")
    site_title = _("Thüringen-Portal – Verwaltung")
    index_title = _("Übersicht")
    login_form = PortalLoginForm
    login_template = "admin/portal/login.html"
    index_template = "admin/portal/index.html"

    def __init__(self, name: str = "admin"):
        super().__init__(name)

    def get_urls(self):
        return [
            path(
                "backoffice/uebersicht/",
                self.admin_view(self.office_overview_view),
                name="backoffice_office_overview",
            ),
            path(
                "backoffice/statistik/",
                self.admin_view(self.statewide_statistics_view),
                name="backoffice_statewide_statistics",
            ),
            *super().get_urls(),
        ]

    def each_context(self, request: HttpRequest) -> dict:
        context = super().each_context(request)
        links = []
        user = request.user
        if user.is_authenticated:
            if case_selectors.statistics_office_ids(user=user) != set():
                links.append(
                    (_("Übersicht der Behörde"), reverse(f"{self.name}:backoffice_office_overview"))
                )
            if user.has_perm("submissions.view_statewide_statistics") or (
                case_selectors.is_platform_admin(user=user)
            ):
                links.append(
                    (
                        _("Landesweite Statistik"),
                        reverse(f"{self.name}:backoffice_statewide_statistics"),
                    )
                )
            if case_selectors.can_work_cases(user=user):
                changelist = reverse(f"{self.name}:submissions_submission_changelist")
                links.insert(0, (_("Anträge bearbeiten"), changelist))
        context["backoffice_links"] = links
        return context

    def office_overview_view(self, request: HttpRequest) -> HttpResponse:
        office_ids = case_selectors.statistics_office_ids(user=request.user)
        if office_ids == set():
            raise Http404
        overview = case_selectors.office_overview(office_ids=office_ids)
        audit_record(
            actor=request.user,
            action=AuditEntry.Action.VIEW_STATISTICS,
            ip_address=client_address_resolve(request=request),
            detail="office overview",
        )
        context = {
            **self.each_context(request),
            "title": _("Übersicht der Behörde"),
            "overview": overview,
            "age_labels": [label for label, _s, _e in case_selectors.AGE_BUCKETS],
        }
        return TemplateResponse(request, "admin/portal/office_overview.html", context)

    def statewide_statistics_view(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if not (
            user.has_perm("submissions.view_statewide_statistics")
            or case_selectors.is_platform_admin(user=user)
        ):
            raise Http404
        selected = None
        raw = request.GET.get("monat", "")
        if raw:
            try:
                selected = datetime.datetime.strptime(raw[:7], "%Y-%m").date()
            except ValueError:
                selected = None
        # Aggregates over the whole table take a second or two at a million
        # submissions; they are the same for every viewer, so cache them briefly.
        key = f"backoffice:statewide:{selected or 'current'}:{timezone.localdate()}"
        statistics = cache.get(key)
        if statistics is None:
            statistics = case_selectors.statewide_statistics(selected_month=selected)
            cache.set(key, statistics, STATEWIDE_CACHE_SECONDS)
        audit_record(
            actor=user,
            action=AuditEntry.Action.VIEW_STATISTICS,
            ip_address=client_address_resolve(request=request),
            detail="statewide statistics",
        )
        table = [
            (
                month,
                [
                    statistics.per_service_month.get((month, name), 0)
                    for name in statistics.services
                ],
                sum(
                    count
                    for (row_month, _name), count in statistics.per_service_month.items()
                    if row_month == month
                ),
            )
            for month in statistics.months
        ]
        context = {
            **self.each_context(request),
            "title": _("Landesweite Statistik"),
            "statistics": statistics,
            "service_month_table": table,
        }
        return TemplateResponse(request, "admin/portal/statewide_statistics.html", context)
