"""The admin site of the portal: two-factor login for all staff, back-office overview pages."""

from __future__ import annotations

from functools import partial, update_wrapper

from django import forms
from django.contrib import messages
from django.contrib.admin.forms import AdminPasswordChangeForm
from django.contrib.auth.views import PasswordChangeView
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponsePermanentRedirect,
    HttpResponseRedirect,
)
from django.template.response import TemplateResponse
from django.urls import path, re_path, reverse
from django.utils.translation import gettext_lazy as _
from django_otp.admin import OTPAdminAuthenticationForm, OTPAdminSite
from django_otp.plugins.otp_totp.models import TOTPDevice

from submissions.client_address import client_address_resolve

from . import case_selectors, workbench_selectors
from .audit import audit_record
from .disclosure import SMALL_COUNT
from .funnel import funnel_statistics_view
from .models import AuditEntry
from .staff import (
    initial_password_expired,
    initial_password_issued_at,
    staff_login_failure_record,
    staff_password_change,
)
from .statewide import statewide_csv_view, statewide_statistics_view

# Models that moved from the submissions app to this one; their admin pages
# moved with the app label and the old addresses lead there.
MOVED_FROM_SUBMISSIONS = ("auditentry", "staffmembership")


LOGIN_FAILED = _(
    "Benutzername, Passwort oder Einmalcode ist falsch. Nach mehreren Fehlversuchen "
    "wird die Anmeldung vorübergehend gesperrt."
)


class PortalLoginForm(OTPAdminAuthenticationForm):
    """Password plus the code of the staff member's authenticator app (their TOTP device).

    Every refusal looks the same (one message, same status, same page),
    whether the password or only the code was wrong, so the form does not
    confirm a guessed password. A refusal after a right password is counted
    by axes like a wrong password.
    """

    error_messages = {
        **OTPAdminAuthenticationForm.error_messages,
        "invalid_login": LOGIN_FAILED,
        "inactive": LOGIN_FAILED,
    }

    def clean(self):
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            if self.user_cache is None:
                raise  # wrong password or locked: authenticate() has told axes
            # The password was right; the code was wrong or missing, the device
            # throttled or absent, or the account is not staff.
            self.user_cache = None
            staff_login_failure_record(
                request=self.request, username=self.cleaned_data.get("username") or ""
            )
            raise self.get_invalid_login_error() from None
        # Only someone with both factors learns that the initial password has expired.
        # No user when a field was already refused (e.g. a NUL byte): nothing was checked.
        if self.user_cache is not None and initial_password_expired(user=self.user_cache):
            self.user_cache = None
            raise forms.ValidationError(
                _(
                    "Ihr Erstpasswort ist abgelaufen. Bitte lassen Sie sich von der "
                    "Plattform-Administration ein neues geben."
                ),
                code="initial_password_expired",
            )
        return cleaned

    def _chosen_device(self, user):
        device = super()._chosen_device(user)
        if device is None:
            # Staff have one authenticator app; no device picker on the form.
            device = TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()
        return device

    def _update_form(self, user):
        # django-otp would re-render the password and list the devices after a
        # right password: the page would differ from the one for a wrong password.
        pass


class PortalPasswordChangeForm(AdminPasswordChangeForm):
    """Django's password change form, saved through the staff service (ends an initial password)."""

    def clean_new_password1(self):
        password = self.cleaned_data.get("new_password1")
        if password and self.user.check_password(password):
            raise forms.ValidationError(
                _("Das neue Passwort muss sich vom bisherigen unterscheiden."),
                code="password_unchanged",
            )
        return password

    def save(self, commit=True):
        staff_password_change(user=self.user, password=self.cleaned_data["new_password1"])
        return self.user


class PortalAdminSite(OTPAdminSite):
    """Staff log in with password and a TOTP code; unverified sessions count as no access."""

    site_header = _("Thüringen-Portal – Verwaltung")
    site_title = _("Thüringen-Portal – Verwaltung")
    index_title = _("Übersicht")
    login_form = PortalLoginForm
    login_template = "admin/portal/login.html"
    password_change_template = "admin/portal/password_change.html"  # noqa: S105 (a template)
    password_change_done_template = "admin/portal/password_change_done.html"  # noqa: S105
    index_template = "admin/portal/index.html"

    # Pages a user with an initial password may open: replacing it, and leaving.
    BEFORE_PASSWORD_CHANGE = {"password_change", "password_change_done", "logout", "jsi18n"}

    def __init__(self, name: str = "admin"):
        super().__init__(name)

    def admin_view(self, view, cacheable=False):
        """Every admin page, plus: an initial password must be replaced before anything else."""

        def initial_password_guard(request, *args, **kwargs):
            match = request.resolver_match
            if (
                request.user.is_authenticated
                and (match is None or match.url_name not in self.BEFORE_PASSWORD_CHANGE)
                and initial_password_issued_at(user=request.user) is not None
            ):
                messages.warning(
                    request,
                    _(
                        "Bitte ersetzen Sie zuerst das Erstpasswort, das Sie erhalten haben, "
                        "durch ein eigenes Passwort."
                    ),
                )
                return HttpResponseRedirect(reverse(f"{self.name}:password_change"))
            return view(request, *args, **kwargs)

        return super().admin_view(update_wrapper(initial_password_guard, view), cacheable)

    def password_change(self, request, extra_context=None):
        # As AdminSite.password_change, with the form that ends an initial password.
        request.current_app = self.name
        return PasswordChangeView.as_view(
            form_class=PortalPasswordChangeForm,
            template_name=self.password_change_template,
            success_url=reverse(f"{self.name}:password_change_done"),
            extra_context={**self.each_context(request), **(extra_context or {})},
        )(request)

    def get_urls(self):
        return [
            path(
                "backoffice/uebersicht/",
                self.admin_view(self.office_overview_view),
                name="backoffice_office_overview",
            ),
            path(
                "backoffice/statistik/",
                self.admin_view(
                    update_wrapper(
                        partial(statewide_statistics_view, site=self), statewide_statistics_view
                    )
                ),
                name="backoffice_statewide_statistics",
            ),
            path(
                "backoffice/statistik/gemeinden.csv",
                self.admin_view(
                    update_wrapper(partial(statewide_csv_view, site=self), statewide_csv_view)
                ),
                name="backoffice_statewide_csv",
            ),
            path(
                "backoffice/statistik/formulare/",
                self.admin_view(
                    update_wrapper(
                        partial(funnel_statistics_view, site=self), funnel_statistics_view
                    )
                ),
                name="backoffice_funnel_statistics",
            ),
            re_path(
                rf"^submissions/(?P<model>{'|'.join(MOVED_FROM_SUBMISSIONS)})/(?P<rest>.*)$",
                self.moved_model_redirect,
            ),
            *super().get_urls(),
        ]

    def index(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        """Clerks and office leads land on their workbench ("Meine Fälle"); platform
        administrators and the Kompetenzzentrum keep the admin's own start page."""
        if not workbench_selectors.is_office_worker(user=request.user):
            return super().index(request, extra_context)
        sections = workbench_selectors.workbench_sections(user=request.user)
        audit_record(
            actor=request.user,
            action=AuditEntry.Action.VIEW_LIST,
            ip_address=client_address_resolve(request=request),
            detail="Startseite (Meine Fälle)",
        )
        context = {
            **self.each_context(request),
            "title": _("Meine Fälle"),
            "subtitle": None,
            "is_nav_sidebar_enabled": False,
            "sections": sections,
            "count_cap": workbench_selectors.SECTION_COUNT_CAP,
            "changelist_url": reverse(f"{self.name}:submissions_submission_changelist"),
            "app_list": self.get_app_list(request),
            **(extra_context or {}),
        }
        request.current_app = self.name
        return TemplateResponse(request, "admin/portal/workbench.html", context)

    def moved_model_redirect(self, request: HttpRequest, model: str, rest: str) -> HttpResponse:
        """Old bookmarks (/admin/submissions/auditentry/...) lead to the page's new address.

        Not an admin view: the target checks login and permissions itself, and
        the redirect tells nothing that the address did not already say.
        """
        target = f"{reverse(f'{self.name}:index')}backoffice/{model}/{rest}"
        query = request.META.get("QUERY_STRING", "")
        return HttpResponsePermanentRedirect(f"{target}?{query}" if query else target)

    def each_context(self, request: HttpRequest) -> dict:
        context = super().each_context(request)
        links = []
        user = request.user
        if user.is_authenticated:
            if case_selectors.statistics_office_ids(user=user) != set():
                links.append(
                    (_("Übersicht der Behörde"), reverse(f"{self.name}:backoffice_office_overview"))
                )
            if user.has_perm("backoffice.view_statewide_statistics") or (
                case_selectors.is_platform_admin(user=user)
            ):
                links.append(
                    (
                        _("Landesweite Statistik"),
                        reverse(f"{self.name}:backoffice_statewide_statistics"),
                    )
                )
                links.append(
                    (
                        _("Formular-Statistik"),
                        reverse(f"{self.name}:backoffice_funnel_statistics"),
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
            "changelist_url": reverse(f"{self.name}:submissions_submission_changelist"),
            "open_statuses": ",".join(case_selectors.OPEN_STATUSES),
            "final_statuses": ",".join(case_selectors.FINAL_STATUSES),
            "small_count": SMALL_COUNT,
        }
        return TemplateResponse(request, "admin/portal/office_overview.html", context)
