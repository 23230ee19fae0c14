"""The funnel statistics page of the Kompetenzzentrum: figures per form version."""

from __future__ import annotations

import datetime

from django import forms
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from forms_catalog.models import FormVersion, Service
from municipalities.models import Kreis
from submissions.client_address import client_address_resolve

from . import case_selectors
from .audit import audit_record
from .disclosure import SMALL_COUNT
from .funnel_selectors import FunnelFilter, funnel_versions
from .models import AuditEntry

# The period shown when none is chosen: the last 90 days.
DEFAULT_PERIOD = datetime.timedelta(days=90)
# Periods further back than this are refused (no drafts are that old; a typo otherwise).
EARLIEST_DATE = datetime.date(2000, 1, 1)


class FunnelFilterForm(forms.Form):
    """The page's filters. Every refusal has a German (or English) message; nothing raises."""

    von = forms.DateField(
        label=_("Begonnen ab"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": _("Bitte geben Sie ein Datum ein, z. B. 2026-01-31.")},
    )
    bis = forms.DateField(
        label=_("Begonnen bis"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": _("Bitte geben Sie ein Datum ein, z. B. 2026-03-31.")},
    )
    kreis = forms.TypedChoiceField(
        label=_("Landkreis / kreisfreie Stadt"),
        required=False,
        coerce=int,
        empty_value=None,
        error_messages={
            "invalid_choice": _("Diesen Kreis gibt es nicht. Bitte wählen Sie einen aus der Liste.")
        },
    )
    leistung = forms.TypedChoiceField(
        label=_("Leistung"),
        required=False,
        coerce=int,
        empty_value=None,
        error_messages={
            "invalid_choice": _(
                "Diese Leistung gibt es nicht. Bitte wählen Sie eine aus der Liste."
            )
        },
    )
    version = forms.TypedChoiceField(
        label=_("Version"),
        required=False,
        coerce=int,
        empty_value=None,
        error_messages={
            "invalid_choice": _("Diese Version gibt es nicht. Bitte wählen Sie eine aus der Liste.")
        },
    )

    def __init__(self, *args, language: str, **kwargs):
        super().__init__(*args, **kwargs)
        kreise = Kreis.objects.order_by("name")
        self.fields["kreis"].choices = [("", _("alle"))] + [(k.pk, k.name) for k in kreise]
        versions = list(
            FormVersion.objects.select_related("service")
            .defer("definition")
            .exclude(published_at__isnull=True)
            .order_by("service__name_de", "-number")
        )
        services: dict[int, Service] = {v.service_id: v.service for v in versions}
        named = sorted(((s.pk, s.name(language)) for s in services.values()), key=lambda c: c[1])
        self.fields["leistung"].choices = [("", _("alle")), *named]
        self.fields["version"].choices = [
            ("", _("alle")),
            *((v.pk, f"{v.service.name(language)} – {_('Version')} {v.number}") for v in versions),
        ]
        self.version_services = {v.pk: v.service_id for v in versions}

    def clean(self):
        data = super().clean()
        start, end = data.get("von"), data.get("bis")
        for name in ("von", "bis"):
            day = data.get(name)
            if day is not None and not (EARLIEST_DATE <= day <= datetime.date(2999, 12, 31)):
                self.add_error(name, _("Bitte geben Sie ein Datum ab dem Jahr 2000 ein."))
        if start and end and start > end:
            self.add_error("bis", _("Das Ende des Zeitraums liegt vor seinem Anfang."))
        version, service = data.get("version"), data.get("leistung")
        if (
            version is not None
            and service is not None
            and self.version_services[version] != service
        ):
            self.add_error("version", _("Diese Version gehört nicht zur gewählten Leistung."))
        return data


def funnel_filter_from(form: FunnelFilterForm, *, today: datetime.date) -> FunnelFilter:
    """The filter of a valid form; an empty period means the last 90 days up to today."""
    data = form.cleaned_data
    start, end = data.get("von"), data.get("bis")
    if start is None and end is None:
        start = today - DEFAULT_PERIOD
    version = data.get("version")
    service = data.get("leistung")
    if version is not None:
        # The version names its service: the selector then reads one service's index range.
        service = form.version_services[version]
    return FunnelFilter(
        date_from=start,
        date_to=end,
        kreis_id=data.get("kreis"),
        service_id=service,
        version_id=version,
    )


def funnel_statistics_view(request: HttpRequest, *, site) -> HttpResponse:
    user = request.user
    if not (
        user.has_perm("backoffice.view_statewide_statistics")
        or case_selectors.is_platform_admin(user=user)
    ):
        raise Http404
    language = "en" if (get_language() or "").startswith("en") else "de"
    # Bound also without a query, so the defaults go through the same cleaning.
    form = FunnelFilterForm(request.GET, language=language)
    funnels = None
    flt = None
    if form.is_valid():
        flt = funnel_filter_from(form, today=timezone.localdate())
        funnels = funnel_versions(flt=flt, language=language)
        audit_record(
            actor=user,
            action=AuditEntry.Action.VIEW_STATISTICS,
            ip_address=client_address_resolve(request=request),
            detail="funnel statistics",
        )
    context = {
        **site.each_context(request),
        "title": _("Formular-Statistik: Trichter je Version"),
        "form": form,
        "funnels": funnels,
        "filter": flt,
        "detailed": bool(flt and (flt.service_id or flt.version_id)),
        "small_count": SMALL_COUNT,
        "abandoned_hours": 24,
    }
    return TemplateResponse(request, "admin/portal/funnel_statistics.html", context)
