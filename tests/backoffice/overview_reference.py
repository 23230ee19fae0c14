"""The office overview as it was computed before the index-only counts: one grouped scan
of the offices' cases. The reference the tests and bench/bench_statistics.py compare
`backoffice.case_selectors.office_overview` with; never used by the portal itself."""

from __future__ import annotations

import datetime

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from backoffice.case_selectors import (
    AGE_BUCKETS,
    FINAL_STATUSES,
    OPEN_STATUSES,
    OfficeOverview,
    _open_by_assignee,
    age_bucket_q,
)
from municipalities.models import Office
from submissions.models import Submission


def office_overview_scanned(
    *, office_ids: set[int] | None, now: datetime.datetime | None = None
) -> list[OfficeOverview]:
    """The figures of `office_overview` by scanning the submissions (the code before)."""
    now = now or timezone.now()
    since = now - datetime.timedelta(days=30)
    aggregates = {
        f"open_{i}": Count(
            "id",
            filter=Q(status__in=OPEN_STATUSES)
            & age_bucket_q(from_days=start, to_days=end, now=now),
        )
        for i, (_label, start, end) in enumerate(AGE_BUCKETS)
    }
    aggregates["received_30d"] = Count("id", filter=Q(submitted_at__gte=since))
    for status in FINAL_STATUSES:
        aggregates[f"decided_{status}"] = Count(
            "id", filter=Q(status=status, decided_at__gte=since)
        )
    queryset = Submission.objects.filter(office__isnull=False)
    offices = Office.objects.all()
    if office_ids is not None:
        queryset = queryset.filter(office_id__in=office_ids)
        offices = offices.filter(id__in=office_ids)
    rows = {row["office_id"]: row for row in queryset.values("office_id").annotate(**aggregates)}
    names = dict(offices.values_list("id", "name"))
    counts = {
        (row["office_id"], row["assigned_to_id"]): row["n"]
        for row in queryset.filter(status__in=OPEN_STATUSES)
        .values("office_id", "assigned_to_id")
        .annotate(n=Count("id"))
        .order_by()
    }
    workload = _open_by_assignee(counts=counts, office_ids=set(names))
    result = []
    for office_id, name in sorted(names.items(), key=lambda item: item[1]):
        figures = rows.get(office_id)
        if figures is None:
            if office_ids is None:
                continue  # platform view: only offices that have cases
            figures = {key: 0 for key in aggregates}
        open_by_age = [
            (label, figures[f"open_{i}"]) for i, (label, _s, _e) in enumerate(AGE_BUCKETS)
        ]
        decided = [
            (str(status), str(Submission.Status(status).label), figures[f"decided_{status}"])
            for status in FINAL_STATUSES
        ]
        result.append(
            OfficeOverview(
                office_id=office_id,
                office_name=name,
                open_by_age=open_by_age,
                open_total=sum(count for _label, count in open_by_age),
                received_30d=figures["received_30d"],
                decided_30d=sum(count for _status, _label, count in decided),
                decided_by_status_30d=decided,
                open_by_assignee=workload.get(office_id, [(None, str(_("niemandem")), 0)]),
            )
        )
    return result
