"""CSV exports of the case list: cases without personal data, and figures per service and status.

Semicolon-separated with a byte order mark, as spreadsheet programs in German
locales expect; no cell may start a formula. The caller has scoped the cases
and written the audit entry.
"""

from __future__ import annotations

import csv
import datetime

from django.db.models import QuerySet
from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone

from submissions.models import Submission

from ..case_selectors import CaseStatisticsRow
from ..disclosure import basis_sufficient, count_export


def _csv_cell(value) -> str:
    text = "" if value is None else str(value)
    # Spreadsheet formula injection: never let a cell start a formula.
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        text = "'" + text
    return text


class _Echo:
    def write(self, value: str) -> str:
        return value


def cases_csv_response(*, queryset: QuerySet[Submission]) -> StreamingHttpResponse:
    """The cases as a streamed download: reference, service, place, office, status, dates, clerk."""
    rows = queryset.order_by("submitted_at", "id").values_list(
        "reference",
        "service__name_de",
        "gemeinde__ags",
        "gemeinde__name",
        "office__name",
        "status",
        "submitted_at",
        "decided_at",
        "assigned_to__username",
    )
    status_labels = dict(Submission.Status.choices)
    tz = timezone.get_current_timezone()

    def lines():
        writer = csv.writer(_Echo(), delimiter=";")
        yield "\ufeff" + writer.writerow(
            [
                "Aktenzeichen",
                "Leistung",
                "AGS",
                "Gemeinde",
                "Behörde",
                "Status",
                "eingereicht am",
                "entschieden am",
                "Bearbeitungsdauer (Tage)",
                "zugewiesen an",
            ]
        )
        for (
            ref,
            service,
            ags,
            gemeinde,
            office,
            status,
            submitted,
            decided,
            clerk,
        ) in rows.iterator(chunk_size=2000):
            duration = (decided - submitted).days if decided else ""
            yield writer.writerow(
                [
                    _csv_cell(value)
                    for value in (
                        ref,
                        service,
                        ags,
                        gemeinde,
                        office or "",
                        status_labels.get(status, status),
                        submitted.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
                        decided.astimezone(tz).strftime("%Y-%m-%d %H:%M") if decided else "",
                        duration,
                        clerk or "",
                    )
                ]
            )

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    stamp = datetime.date.today().isoformat()
    response["Content-Disposition"] = f'attachment; filename="antraege-{stamp}.csv"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


def case_statistics_csv_response(*, rows: list[CaseStatisticsRow]) -> HttpResponse:
    """Counts and median processing days per service and status as a download.

    Counts from 1 to 4 read "< 5" and their medians stay empty (see disclosure.py).
    """
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    stamp = datetime.date.today().isoformat()
    response["Content-Disposition"] = f'attachment; filename="kennzahlen-{stamp}.csv"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    response.write("\ufeff")
    writer = csv.writer(response, delimiter=";")
    writer.writerow(["Leistung", "Status", "Anzahl", "Median Bearbeitungsdauer (Tage)"])
    status_labels = dict(Submission.Status.choices)
    for row in rows:
        writer.writerow(
            [
                _csv_cell(row.service),
                _csv_cell(status_labels.get(row.status, row.status)),
                count_export(value=row.count),
                ""
                if row.median_days is None or not basis_sufficient(count=row.count)
                else f"{row.median_days:.1f}",
            ]
        )
    return response
