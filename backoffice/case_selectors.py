"""Reads of the back office: which cases a staff member may see, and their overview figures.

Every admin view, action, export and download goes through `cases_for_user`;
it is the one place that decides office scoping.
"""

from __future__ import annotations

import datetime
import statistics
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Aggregate, Count, Exists, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from forms_catalog.models import Service
from municipalities.models import Gemeinde, Kreis, Office
from submissions.models import DecisionTally, Draft, ServiceTally, Submission, SubmissionTally

from .models import FunnelRollup, FunnelRollupState, StaffMembership
from .roles import PLATFORM_GROUP

OPEN_STATUSES = (
    Submission.Status.RECEIVED,
    Submission.Status.FORWARDED,
    Submission.Status.IN_PROGRESS,
    Submission.Status.INFO_REQUESTED,
)
FINAL_STATUSES = (
    Submission.Status.APPROVED,
    Submission.Status.REJECTED,
    Submission.Status.WITHDRAWN,
)
OFFICE_ROLES = (StaffMembership.Role.CLERK, StaffMembership.Role.LEAD)

User = AbstractBaseUser | AnonymousUser


def _memo(user: User, key, compute):
    # Memoised on the user object, which lives for one request (request.user):
    # an admin page asks these questions dozens of times.
    cache = user.__dict__.setdefault("_backoffice_memo", {})
    if key not in cache:
        cache[key] = compute()
    return cache[key]


def is_platform_admin(*, user: User) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    return _memo(user, "platform", lambda: user.groups.filter(name=PLATFORM_GROUP).exists())


def office_ids_for_user(*, user: User, roles: tuple[str, ...] = OFFICE_ROLES) -> set[int]:
    """Offices the user works for in one of `roles` (empty for statewide roles)."""
    if not user.is_authenticated or not user.is_active or not user.is_staff:
        return set()
    return set(
        _memo(
            user,
            ("offices", tuple(roles)),
            lambda: frozenset(
                StaffMembership.objects.filter(
                    user=user, role__in=roles, office__isnull=False
                ).values_list("office_id", flat=True)
            ),
        )
    )


def can_work_cases(*, user: User) -> bool:
    """True for staff who may see cases at all: platform admins, office staff with permission."""
    if is_platform_admin(user=user):
        return True
    return bool(office_ids_for_user(user=user)) and user.has_perm("backoffice.work_cases")


def cases_for_user(*, user: User) -> QuerySet[Submission]:
    """Submissions `user` may see: all (platform admins), their offices' (clerks), else none."""
    queryset = Submission.objects.all()
    if is_platform_admin(user=user):
        return queryset
    if not can_work_cases(user=user):
        return queryset.none()
    return queryset.filter(office_id__in=office_ids_for_user(user=user))


def can_assign_others(*, user: User, submission: Submission) -> bool:
    """Leads assign cases of their offices to anyone of that office; platform admins anywhere."""
    if is_platform_admin(user=user):
        return True
    return submission.office_id in office_ids_for_user(
        user=user, roles=(StaffMembership.Role.LEAD,)
    ) and user.has_perm("backoffice.assign_cases")


def assignable_staff(*, submission: Submission) -> QuerySet:
    """Active staff of the case's office (clerks and leads) a case can be assigned to."""
    return (
        get_user_model()
        .objects.filter(
            is_active=True,
            staff_memberships__office_id=submission.office_id,
            staff_memberships__role__in=OFFICE_ROLES,
        )
        .distinct()
        .order_by("username")
    )


def bulk_assignable_staff(*, user: User, office_ids: set[int]) -> QuerySet:
    """Whom `user` may offer in a bulk assignment of cases of `office_ids`: the active clerks
    and leads of those offices among the ones `user` leads (all of them for platform admins).
    Each single assignment is checked again by case_assign."""
    if not is_platform_admin(user=user):
        office_ids = office_ids & office_ids_for_user(user=user, roles=(StaffMembership.Role.LEAD,))
    return (
        get_user_model()
        .objects.filter(
            is_active=True,
            staff_memberships__office_id__in=office_ids,
            staff_memberships__role__in=OFFICE_ROLES,
        )
        .distinct()
        .order_by("last_name", "first_name", "username")
    )


# --- Overview figures (aggregates only, never personal data) ----------------

AGE_BUCKETS: list[tuple] = [
    # (label, from days, to days exclusive)
    (_("0–7 Tage"), 0, 8),
    (_("8–30 Tage"), 8, 31),
    (_("31–90 Tage"), 31, 91),
    (_("über 90 Tage"), 91, None),
]


def age_bucket_q(*, from_days: int, to_days: int | None, now: datetime.datetime) -> Q:
    q = Q(submitted_at__lte=now - datetime.timedelta(days=from_days))
    if to_days is not None:
        q &= Q(submitted_at__gt=now - datetime.timedelta(days=to_days))
    return q


@dataclass(frozen=True)
class OfficeOverview:
    office_id: int
    office_name: str
    open_by_age: list[tuple[str, int]]
    open_total: int
    received_30d: int
    decided_30d: int
    decided_by_status_30d: list[tuple[str, str, int]]
    # (user id or None for "nobody", name, open cases): every clerk and lead of the office
    open_by_assignee: list[tuple[int | None, str, int]]

    @property
    def open_counts(self) -> list[int]:
        return [count for _label, count in self.open_by_age]

    @property
    def decided_counts(self) -> list[int]:
        return [count for _status, _label, count in self.decided_by_status_30d]


def statistics_office_ids(*, user: User) -> set[int] | None:
    """Offices whose overview `user` may see; None means all (platform administrators)."""
    if is_platform_admin(user=user):
        return None
    if not user.has_perm("backoffice.view_office_statistics"):
        return set()
    return office_ids_for_user(user=user, roles=(StaffMembership.Role.LEAD,))


def office_overview(
    *, office_ids: set[int] | None, now: datetime.datetime | None = None
) -> list[OfficeOverview]:
    """Open cases by age and the last 30 days' throughput per office. Counts only.

    Three grouped counts, each read from an index alone (no table rows): the
    open cases from ``sub_open_office_assignee_idx`` (partial, open statuses:
    office, assignee, submission time), those received in 30 days from
    the case list's (office, submitted_at) index, those decided in 30 days from
    ``sub_office_decided_idx``. Same conditions as one grouped scan of the
    office's cases (``tests/backoffice/overview_reference.py`` is that scan,
    and the tests compare both), at a fraction of the cost: the busiest office
    of 1,000,000 cases has 68,000 rows spread over most of the table's pages.
    """
    now = now or timezone.now()
    since = now - datetime.timedelta(days=30)
    scope = Submission.objects.filter(office__isnull=False)
    offices = Office.objects.all()
    if office_ids is not None:
        scope = scope.filter(office_id__in=office_ids)
        offices = offices.filter(id__in=office_ids)
    if office_ids is None:
        # The platform view lists the offices that have cases at all (one probe of the
        # office's index each), also those with none open or recent.
        offices = offices.filter(Exists(Submission.objects.filter(office_id=OuterRef("pk"))))
    names = dict(offices.values_list("id", "name"))

    # Open cases per office and assignee, split by age. Counted over columns of
    # the index (never NULL), not the id: no table row needs to be read.
    buckets = {
        f"open_{i}": Count(
            "submitted_at", filter=age_bucket_q(from_days=start, to_days=end, now=now)
        )
        for i, (_label, start, end) in enumerate(AGE_BUCKETS)
    }
    open_rows = list(
        scope.filter(status__in=OPEN_STATUSES)
        .values("office_id", "assigned_to_id")
        .annotate(open_all=Count("*"), **buckets)
        .order_by()
    )
    received = dict(
        scope.filter(submitted_at__gte=since)
        .values("office_id")
        .annotate(n=Count("*"))
        .order_by()
        .values_list("office_id", "n")
    )
    decided: dict[tuple[int, str], int] = {
        (office_id, status): n
        for office_id, status, n in scope.filter(status__in=FINAL_STATUSES, decided_at__gte=since)
        .values("office_id", "status")
        .annotate(n=Count("*"))
        .order_by()
        .values_list("office_id", "status", "n")
    }

    open_by_age: dict[int, list[int]] = {}
    open_counts: dict[tuple[int, int | None], int] = {}
    for row in open_rows:
        ages = open_by_age.setdefault(row["office_id"], [0] * len(AGE_BUCKETS))
        for i in range(len(AGE_BUCKETS)):
            ages[i] += row[f"open_{i}"]
        open_counts[(row["office_id"], row["assigned_to_id"])] = row["open_all"]
    workload = _open_by_assignee(counts=open_counts, office_ids=set(names))
    result = []
    for office_id, name in sorted(names.items(), key=lambda item: item[1]):
        ages = open_by_age.get(office_id, [0] * len(AGE_BUCKETS))
        by_age = [(label, ages[i]) for i, (label, _s, _e) in enumerate(AGE_BUCKETS)]
        by_status = [
            (str(status), str(Submission.Status(status).label), decided.get((office_id, status), 0))
            for status in FINAL_STATUSES
        ]
        result.append(
            OfficeOverview(
                office_id=office_id,
                office_name=name,
                open_by_age=by_age,
                open_total=sum(ages),
                received_30d=received.get(office_id, 0),
                decided_30d=sum(count for _status, _label, count in by_status),
                decided_by_status_30d=by_status,
                open_by_assignee=workload.get(office_id, [(None, str(_("niemandem")), 0)]),
            )
        )
    return result


def _open_by_assignee(
    *, counts: dict[tuple[int, int | None], int], office_ids: set[int]
) -> dict[int, list[tuple[int | None, str, int]]]:
    """Open cases per assignee and office (`counts`: (office, assignee or None) -> cases):
    unassigned first, then every active clerk and lead of the office by name (also those
    with none), and anyone who still has cases there after leaving it. Reads the staff."""
    staff: dict[int, dict[int, str]] = {office_id: {} for office_id in office_ids}
    for office_id, user_id, username, first, last in StaffMembership.objects.filter(
        office_id__in=office_ids, role__in=OFFICE_ROLES, user__is_active=True
    ).values_list("office_id", "user_id", "user__username", "user__first_name", "user__last_name"):
        staff[office_id][user_id] = f"{first} {last}".strip() or username
    # Cases may still be assigned to someone who has left the office.
    missing = {user_id for (office_id, user_id) in counts if user_id is not None} - {
        user_id for members in staff.values() for user_id in members
    }
    former = {
        user.pk: user.get_full_name() or user.username
        for user in get_user_model().objects.filter(pk__in=missing)
    }
    result = {}
    for office_id, members in staff.items():
        names = dict(members)
        for key_office, user_id in counts:
            if key_office == office_id and user_id is not None and user_id not in names:
                names[user_id] = former.get(user_id, str(user_id))
        rows = [(None, str(_("niemandem")), counts.get((office_id, None), 0))]
        rows += sorted(
            (
                (user_id, name, counts.get((office_id, user_id), 0))
                for user_id, name in names.items()
            ),
            key=lambda row: row[1].lower(),
        )
        result[office_id] = rows
    return result


class Median(Aggregate):
    """PostgreSQL's median (percentile_cont 0.5)."""

    function = "PERCENTILE_CONT"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    allow_distinct = False


@dataclass(frozen=True)
class AreaRow:
    """One Kreis or Gemeinde of the statistics' area table: its key (Kreis key or AGS),
    name and submissions per service (in the order of the services listed)."""

    key: str
    name: str
    counts: list[int]
    kreis: str = ""  # the Gemeinde's Kreis, where asked for (the CSV)

    @property
    def total(self) -> int:
        return sum(self.counts)


# Orders of the area table: by name, or by submissions (most first).
AREA_ORDERS = ("name", "anzahl")


@dataclass(frozen=True)
class StatewideStatistics:
    months: list[datetime.date]
    services: list[str]
    # (month, service name) -> count
    per_service_month: dict[tuple[datetime.date, str], int]
    selected_month: datetime.date
    # The selected month's submissions per area (the Kreise, or the Gemeinden of
    # `selected_kreis`) and service, in the order of `services`.
    area_rows: list[AreaRow]
    # Every Kreis (key, name) for the filter, and the one chosen (None: all Kreise)
    kreise: list[tuple[str, str]]
    selected_kreis: tuple[str, str] | None
    # (month, drafts started, of them submitted, rate 0..1 or None)
    completion: list[tuple[datetime.date, int, int, float | None]]
    # (service name, decided cases, median processing time or None)
    median_processing: list[tuple[str, int, datetime.timedelta | None]]


def month_start(day: datetime.date, back: int = 0) -> datetime.date:
    """The first day of `day`'s month, or of the month `back` months before it."""
    index = day.year * 12 + day.month - 1 - back
    return datetime.date(index // 12, index % 12 + 1, 1)


def _aware(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def _histogram_median(histogram: dict[int, int]) -> datetime.timedelta | None:
    """The median (as PostgreSQL's percentile_cont 0.5) of day counts ``{days: cases}``."""
    total = sum(histogram.values())
    if not total:
        return None
    wanted = {(total - 1) // 2, total // 2}  # one middle position, or the two to average
    found: list[int] = []
    seen = 0
    for days in sorted(histogram):
        count = histogram[days]
        found += [days for position in sorted(wanted) if seen <= position < seen + count]
        seen += count
    return datetime.timedelta(days=sum(found) / len(found))


def _valid_in_month(month: datetime.date) -> Q:
    """Units that existed on some day of `month` (Gemeinden merge on 1 January)."""
    return Q(valid_from__lt=month_start(month, -1)) & (
        Q(valid_to__isnull=True) | Q(valid_to__gte=month)
    )


def area_month_counts(
    *,
    month: datetime.date,
    services: list[int],
    kreis_key: str | None = None,
    with_kreis: bool = False,
) -> list[AreaRow]:
    """Submissions filed in `month` per Kreis (or per Gemeinde of the Kreis `kreis_key`, or
    with `kreis_key="*"` per Gemeinde of the whole state) and service, from the tallies.

    Lists every unit that existed in the month (with zeros: a Gemeinde without
    a single submission is what adoption figures are about) and any other with
    submissions in it; ordered by name. One grouped read of the month's tally
    rows (a few tens of thousands at most) and one of the units. `with_kreis`
    names each Gemeinde's Kreis too.
    """
    tallies = SubmissionTally.objects.filter(month=month)
    if kreis_key is None:
        units = Kreis.objects.all()
        group = "gemeinde__kreis_id"
        unit_key = "key"
    else:
        units = Gemeinde.objects.all()
        group = "gemeinde_id"
        unit_key = "ags"
        if kreis_key != "*":
            units = units.filter(kreis__key=kreis_key)
            tallies = tallies.filter(gemeinde__kreis__key=kreis_key)
    counts: dict[int, dict[int, int]] = {}
    for unit_id, service_id, n in (
        tallies.values(group, "service_id")
        .annotate(n=Sum("count"))
        .order_by()
        .values_list(group, "service_id", "n")
    ):
        counts.setdefault(unit_id, {})[service_id] = n
    fields = ["id", unit_key, "name"] + (["kreis__name"] if with_kreis and kreis_key else [])
    rows = []
    for unit_id, key, name, *kreis in (
        units.filter(_valid_in_month(month) | Q(pk__in=list(counts)))
        .order_by("name", unit_key)
        .values_list(*fields)
    ):
        by_service = counts.get(unit_id, {})
        rows.append(
            AreaRow(
                key=key,
                name=name,
                counts=[by_service.get(service, 0) for service in services],
                kreis=kreis[0] if kreis else "",
            )
        )
    return rows


def _drafts_per_month(*, first: datetime.date) -> dict[datetime.date, tuple[int, int]]:
    """Drafts started, and of them submitted, per month of their start (local time) from the
    month `first` on: the closed days from the funnel roll-up's statewide rows (whole months
    and the days of the horizon's month: a few hundred rows), the open days since its
    horizon from the drafts themselves (the last weeks). The same figures as a count over
    all drafts (tests/backoffice/test_statistics_page.py compares both), without reading
    a year of drafts (half a million at 1,000,000)."""
    horizon = FunnelRollupState.objects.filter(pk=1).values_list("closed_until", flat=True).first()
    counts: dict[datetime.date, list[int]] = {}
    live_from = first
    if horizon is not None and horizon > first:
        live_from = horizon
        whole_months_end = month_start(horizon)
        for start, started, submitted in (
            FunnelRollup.objects.filter(kreis=0)
            .filter(
                Q(period=FunnelRollup.Period.MONTH, start__gte=first, start__lt=whole_months_end)
                | Q(
                    period=FunnelRollup.Period.DAY,
                    start__gte=max(first, whole_months_end),
                    start__lt=horizon,
                )
            )
            .values("start")
            .annotate(started=Sum("started"), submitted=Sum("submitted"))
            .order_by()
            .values_list("start", "started", "submitted")
        ):
            entry = counts.setdefault(month_start(start), [0, 0])
            entry[0] += started
            entry[1] += submitted
    for month, started, submitted in (
        Draft.objects.filter(created_at__gte=_aware(live_from))
        .annotate(month=TruncMonth("created_at"))
        .values("month")
        .annotate(started=Count("id"), submitted=Count("id", filter=Q(submitted_at__isnull=False)))
        .order_by()
        .values_list("month", "started", "submitted")
    ):
        day = month.date() if isinstance(month, datetime.datetime) else month
        entry = counts.setdefault(day, [0, 0])
        entry[0] += started
        entry[1] += submitted
    return {month: (started, submitted) for month, (started, submitted) in counts.items()}


def statewide_statistics(
    *,
    months: int = 12,
    selected_month: datetime.date | None = None,
    kreis_key: str | None = None,
    order: str = "name",
    kreise: list[tuple[str, str]] | None = None,
    now: datetime.datetime | None = None,
) -> StatewideStatistics:
    """Aggregates over the whole state for the Kompetenzzentrum: counts and durations only.

    The submission counts and processing times come from the tallies
    (``submissions.tallies``), kept current in the transactions that file and
    transition submissions: a few thousand rows, never a scan of the
    submissions. Medians are over whole days from submission to decision.
    The completion rate comes from the funnel roll-up and the drafts of the
    days it has not closed yet (see `_drafts_per_month`).
    The area table has a row per Kreis, or per Gemeinde of the Kreis
    `kreis_key` (an unknown key shows the Kreise), ordered by name or, with
    `order="anzahl"`, by submissions in the month (most first).
    """
    now = now or timezone.now()
    today = timezone.localdate(now)
    month_list = [month_start(today, back) for back in range(months - 1, -1, -1)]
    selected = month_start(selected_month or today)

    per_service_month: dict[tuple[datetime.date, str], int] = {}
    rows = (
        ServiceTally.objects.filter(month__gte=month_list[0])
        .values("month", "service__name_de")
        .annotate(n=Sum("count"))
        .order_by()
    )
    for row in rows:
        if row["n"]:
            per_service_month[(row["month"], row["service__name_de"])] = row["n"]

    services = list(Service.objects.order_by("sort_order", "name_de").values_list("id", "name_de"))
    if kreise is None:  # (key, name) of every Kreis; the page passes the ones it read
        kreise = list(Kreis.objects.order_by("name", "key").values_list("key", "name"))
    chosen = dict(kreise).get(kreis_key or "")
    area_rows = area_month_counts(
        month=selected,
        services=[pk for pk, _name in services],
        kreis_key=kreis_key if chosen else None,
    )
    if order == "anzahl":
        area_rows.sort(key=lambda row: -row.total)  # stable: by name among equal totals

    drafts = _drafts_per_month(first=month_list[0])
    completion = []
    for month in month_list:
        started, submitted = drafts.get(month, (0, 0))
        completion.append((month, started, submitted, submitted / started if started else None))

    histograms: dict[str, dict[int, int]] = {}
    for name, days, count in (
        DecisionTally.objects.filter(month__gte=month_list[0], count__gt=0)
        .values("service__name_de", "days")
        .annotate(n=Sum("count"))
        .values_list("service__name_de", "days", "n")
        .order_by()
    ):
        histograms.setdefault(name, {})[days] = count
    median_processing = [
        (name, sum(histogram.values()), _histogram_median(histogram))
        for name, histogram in sorted(histograms.items())
    ]

    return StatewideStatistics(
        months=month_list,
        services=[name for _pk, name in services],
        per_service_month=per_service_month,
        selected_month=selected,
        area_rows=area_rows,
        kreise=kreise,
        selected_kreis=(kreis_key, chosen) if chosen else None,
        completion=completion,
        median_processing=median_processing,
    )


@dataclass(frozen=True)
class CaseStatisticsRow:
    service: str
    status: str
    count: int
    median_days: float | None


def case_statistics(*, queryset: QuerySet[Submission]) -> list[CaseStatisticsRow]:
    """Counts per service and status of an (already scoped) set of cases, with the
    median days from submission to decision for decided ones. No personal data."""
    rows: dict[tuple[str, str], list] = {}
    for service, status, submitted_at, decided_at in (
        queryset.order_by()
        .values_list("service__name_de", "status", "submitted_at", "decided_at")
        .iterator(chunk_size=5000)
    ):
        entry = rows.setdefault((service, status), [0, []])
        entry[0] += 1
        if decided_at is not None:
            entry[1].append((decided_at - submitted_at).total_seconds() / 86400)
    result = []
    for (service, status), (count, durations) in sorted(rows.items()):
        result.append(
            CaseStatisticsRow(
                service=service,
                status=status,
                count=count,
                median_days=statistics.median(durations) if durations else None,
            )
        )
    return result
