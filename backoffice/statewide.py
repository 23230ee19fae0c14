"""The statewide statistics page of the Kompetenzzentrum, and its CSV of every Gemeinde.

The submissions of a month are shown per Kreis, and one Kreis's Gemeinden on
request (the drill-down): a table of 23 or a few dozen rows instead of every
Gemeinde times every service at once (3,630 rows, most of the page's time).
The whole per-Gemeinde table of a month is the CSV download.
"""

from __future__ import annotations

import csv
import datetime

from django import forms
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from forms_catalog.models import Service
from municipalities.models import Kreis
from submissions.client_address import client_address_resolve

from . import case_selectors
from .audit import audit_record
from .disclosure import SMALL_COUNT, count_export, count_suppressed, total_display
from .models import AuditEntry

# Months before this are refused (no submissions are that old; a typo otherwise).
EARLIEST_MONTH = datetime.date(2000, 1, 1)


class StatewideFilterForm(forms.Form):
    """Month, Kreis and order of the area table. Each refusal has a message; nothing raises."""

    monat = forms.CharField(label=_("Monat"), required=False, max_length=7)
    kreis = forms.ChoiceField(
        label=_("Landkreis / kreisfreie Stadt"),
        required=False,
        error_messages={
            "invalid_choice": _("Diesen Kreis gibt es nicht. Bitte wählen Sie einen aus der Liste.")
        },
    )
    sortierung = forms.ChoiceField(
        label=_("Sortierung"),
        required=False,
        choices=[("name", _("nach Name")), ("anzahl", _("nach Anzahl, größte zuerst"))],
        error_messages={"invalid_choice": _("Bitte wählen Sie eine Sortierung aus der Liste.")},
    )

    def __init__(self, *args, kreise: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["monat"].widget = forms.TextInput(attrs={"type": "month"})
        self.fields["kreis"].choices = [("", _("alle Kreise")), *kreise]

    def clean_monat(self) -> datetime.date | None:
        raw = self.cleaned_data.get("monat") or ""
        if not raw:
            return None
        try:
            month = datetime.datetime.strptime(raw, "%Y-%m").date()
        except ValueError:
            raise forms.ValidationError(
                _("Bitte geben Sie einen Monat ein, z. B. 2026-01."), code="invalid"
            ) from None
        if not (EARLIEST_MONTH <= month <= datetime.date(2999, 12, 1)):
            raise forms.ValidationError(_("Bitte geben Sie einen Monat ab dem Jahr 2000 ein."))
        return month


def _may_view(user) -> bool:
    return user.has_perm("backoffice.view_statewide_statistics") or (
        case_selectors.is_platform_admin(user=user)
    )


def statewide_statistics_view(request: HttpRequest, *, site) -> HttpResponse:
    user = request.user
    if not _may_view(user):
        raise Http404
    kreise = list(Kreis.objects.order_by("name", "key").values_list("key", "name"))
    # Bound also without a query: the defaults go through the same cleaning.
    form = StatewideFilterForm(request.GET, kreise=kreise)
    data = form.cleaned_data if form.is_valid() else {}
    # Read from the tallies kept in the submit and transition transactions:
    # fast without a cache, and current to the last commit.
    statistics = case_selectors.statewide_statistics(
        selected_month=data.get("monat"),
        kreis_key=data.get("kreis") or None,
        order=data.get("sortierung") or "name",
        kreise=kreise,
    )
    audit_record(
        actor=user,
        action=AuditEntry.Action.VIEW_STATISTICS,
        ip_address=client_address_resolve(request=request),
        detail="statewide statistics",
    )
    table = []
    for month in statistics.months:
        counts = [
            statistics.per_service_month.get((month, name), 0) for name in statistics.services
        ]
        # Over all services of the month, also those no longer listed.
        cells = [
            count
            for (row_month, _name), count in statistics.per_service_month.items()
            if row_month == month
        ]
        table.append((month, counts, total_display(cells=cells)))
    rows = statistics.area_rows
    area_table = [(row, total_display(cells=row.counts)) for row in rows]
    columns = list(zip(*(row.counts for row in rows), strict=True)) if rows else []
    column_totals = [total_display(cells=column) for column in columns]
    grand_total = (
        total_display(cells=[count for row in rows for count in row.counts]) if rows else "0"
    )
    month_param = statistics.selected_month.strftime("%Y-%m")
    context = {
        **site.each_context(request),
        "title": _("Landesweite Statistik"),
        "form": form,
        "statistics": statistics,
        "service_month_table": table,
        "area_table": area_table,
        "column_totals": column_totals,
        "grand_total": grand_total,
        "month_param": month_param,
        "order": data.get("sortierung") or "name",
        "small_count": SMALL_COUNT,
    }
    return TemplateResponse(request, "admin/portal/statewide_statistics.html", context)


def statewide_csv_view(request: HttpRequest, *, site) -> HttpResponse:
    """Every Gemeinde's submissions per service in one month, as a download (the page shows
    one Kreis at a time). Small counts read "< 5" here too; a total over them stays empty."""
    user = request.user
    if not _may_view(user):
        raise Http404
    form = StatewideFilterForm(request.GET, kreise=[])
    month = form.cleaned_data.get("monat") if form.is_valid() else None
    month = case_selectors.month_start(month or timezone.localdate())
    services = list(Service.objects.order_by("sort_order", "name_de").values_list("id", "name_de"))
    rows = case_selectors.area_month_counts(
        month=month, services=[pk for pk, _name in services], kreis_key="*", with_kreis=True
    )
    audit_record(
        actor=user,
        action=AuditEntry.Action.EXPORT,
        ip_address=client_address_resolve(request=request),
        detail=f"statewide statistics per Gemeinde {month:%Y-%m}",
    )
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="antraege-je-gemeinde-{month:%Y-%m}.csv"'
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    response.write("\ufeff")
    writer = csv.writer(response, delimiter=";")
    writer.writerow(
        ["Monat", "AGS", "Gemeinde", "Kreis", *(name for _pk, name in services), "gesamt"]
    )
    for row in rows:
        total = "" if any(count_suppressed(value=count) for count in row.counts) else str(row.total)
        writer.writerow(
            [
                f"{month:%Y-%m}",
                row.key,
                _csv_text(row.name),
                _csv_text(row.kreis),
                *(count_export(value=count) for count in row.counts),
                total,
            ]
        )
    return response


def _csv_text(value: str) -> str:
    # Spreadsheet formula injection: never let a cell start a formula.
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
