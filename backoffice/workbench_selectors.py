"""Reads of the clerk's workbench: the start page "Meine Fälle" and the documents of a case.

The start page's sections are scoped by `cases_for_user` like every other read;
each shows a capped count and the newest (or most pressing) few cases, so it
stays fast at a million cases (the queries use the case list's indexes and the
partial index `sub_office_resubmission_idx`).
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from forms_catalog.selectors import summarize
from submissions.models import Attachment, InfoRequest, Submission

from .case_selectors import OPEN_STATUSES, cases_for_user, is_platform_admin, office_ids_for_user

# Each section lists this many cases and counts up to SECTION_COUNT_CAP.
SECTION_LIMIT = 10
SECTION_COUNT_CAP = 500


# A case is "due" (section "Überfällig / Wiedervorlage fällig") when any of these
# conditions holds on `today` (the local date). Further conditions, such as a
# Rückfrage whose deadline has passed, are added to this list.
def _rueckfrage_overdue(today: datetime.date) -> Q:
    # Waiting for the citizen and the open question's deadline has passed. The open
    # questions past their deadline are read first, from their own partial index
    # (few at any time); an EXISTS inside the OR made PostgreSQL check every case
    # waiting for an answer in the office, row by row (over 100 ms at 1M cases).
    overdue = InfoRequest.objects.filter(
        deadline__lt=today, answered_at__isnull=True, cancelled_at__isnull=True
    ).values_list("submission_id", flat=True)
    return Q(pk__in=list(overdue), status=Submission.Status.INFO_REQUESTED)


DUE_CONDITIONS: list[Callable[[datetime.date], Q]] = [
    lambda today: Q(resubmission_on__lte=today),
    _rueckfrage_overdue,
]


def due_q(*, today: datetime.date | None = None) -> Q:
    """The condition of a due case: any of DUE_CONDITIONS, OR-ed."""
    today = today or timezone.localdate()
    condition = Q(pk__in=[])
    for make in DUE_CONDITIONS:
        condition |= make(today)
    return condition


def is_office_worker(*, user) -> bool:
    """Clerks and leads with an office: their start page is the workbench.

    Platform administrators and the Kompetenzzentrum keep the admin's own index.
    """
    if is_platform_admin(user=user):
        return False
    return bool(office_ids_for_user(user=user)) and user.has_perm("backoffice.work_cases")


@dataclass(frozen=True)
class WorkbenchSection:
    key: str
    title: str
    # The number of matching cases, at most SECTION_COUNT_CAP + 1 (then shown as "über …").
    count: int
    cases: list[Submission]
    # Query string of the case list filtered to this section (without "?").
    list_query: str
    empty_text: str = ""

    @property
    def count_capped(self) -> bool:
        return self.count > SECTION_COUNT_CAP


def _open_statuses_query() -> str:
    return ",".join(str(status) for status in OPEN_STATUSES)


def workbench_sections(*, user, limit: int = SECTION_LIMIT) -> list[WorkbenchSection]:
    """The start page of `user`: assigned to me, new/unassigned, waiting, due.

    Every section is inside `cases_for_user(user)`; each counts at most
    SECTION_COUNT_CAP + 1 rows and loads `limit` cases with what the page shows.
    """
    scope = cases_for_user(user=user).select_related("service", "gemeinde", "assigned_to")
    today = timezone.localdate()
    open_query = _open_statuses_query()
    definitions: list[tuple[str, object, QuerySet[Submission], list, str, object]] = [
        (
            "mine",
            _("Mir zugewiesen"),
            scope.filter(assigned_to=user, status__in=OPEN_STATUSES),
            ["-submitted_at", "-pk"],
            f"bearbeitung=mir&status__in={open_query}",
            _("Ihnen sind keine offenen Anträge zugewiesen."),
        ),
        (
            "unassigned",
            _("Neu / nicht zugewiesen in meinen Behörden"),
            scope.filter(assigned_to__isnull=True, status__in=OPEN_STATUSES),
            ["-submitted_at", "-pk"],
            f"bearbeitung=niemand&status__in={open_query}",
            _("Keine offenen Anträge ohne Zuweisung."),
        ),
        (
            "waiting",
            _("Wartet auf Antwort der antragstellenden Person"),
            scope.filter(status=Submission.Status.INFO_REQUESTED),
            ["-submitted_at", "-pk"],
            f"status__exact={Submission.Status.INFO_REQUESTED}",
            _("Keine Anträge mit offener Rückfrage."),
        ),
        (
            "due",
            _("Überfällig / Wiedervorlage fällig"),
            scope.filter(due_q(today=today)),
            [F("resubmission_on").asc(nulls_last=True), "-submitted_at", "-pk"],
            "faellig=ja",
            _("Nichts ist fällig."),
        ),
    ]
    sections = []
    for key, title, queryset, ordering, query, empty in definitions:
        count = queryset.order_by()[: SECTION_COUNT_CAP + 1].count()
        cases = list(queryset.order_by(*ordering)[:limit]) if count else []
        sections.append(
            WorkbenchSection(
                key=key,
                title=str(title),
                count=count,
                cases=cases,
                list_query=query,
                empty_text=str(empty),
            )
        )
    return sections


# --- Documents of a case ------------------------------------------------------


@dataclass
class DocumentGroup:
    """The attachments uploaded for one field (or for a field the form no longer shows)."""

    path: str
    label: str
    attachments: list[Attachment] = field(default_factory=list)


_GROUP_ITEM_NAME = re.compile(r"^(?P<group>[^-\s]+)-(?P<index>\d+)-(?P<field>.+)$")


def _attachment_paths(answers: object) -> dict[str, str]:
    """attachment id -> answer path ("nachweis", "hunde[1].nachweis") from the stored answers."""
    found: dict[str, str] = {}

    def files(value: object, path: str) -> None:
        if isinstance(value, dict) and isinstance(value.get("attachment_id"), str):
            found.setdefault(value["attachment_id"], path)
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, dict) and isinstance(item.get("attachment_id"), str):
                    found.setdefault(item["attachment_id"], path)

    if not isinstance(answers, dict):
        return found
    for key, value in answers.items():
        files(value, str(key))
        if isinstance(value, list):
            for index, item in enumerate(value):
                if isinstance(item, dict) and "attachment_id" not in item:
                    for inner_key, inner in item.items():
                        files(inner, f"{key}[{index}].{inner_key}")
    return found


def _path_of_field_name(field_path: str) -> str:
    """The answer path of an upload's form field name: "hunde-1-nachweis" -> "hunde[1].nachweis"."""
    match = _GROUP_ITEM_NAME.match(field_path)
    if match:
        return f"{match['group']}[{match['index']}].{match['field']}"
    return field_path


ANSWER_FILES_PATH = "rueckfrage"


def case_documents(*, submission: Submission) -> list[DocumentGroup]:
    """The case's uploads grouped by the field they were uploaded for, in the form's order.

    Labels come from the submission's own form version ("Hund 2: Nachweis" for
    the second entry of a repeatable group). Files whose field the summary does
    not list (hidden by a later answer, or a definition it cannot read) come
    last under their field's name: every upload is listed.
    """
    if submission.purged_at is not None:
        return []
    attachments = list(submission.attachments.order_by("created_at", "pk"))
    if not attachments:
        return []
    labels: dict[str, str] = {}
    try:
        for section in summarize(
            version=submission.form_version, answers=submission.answers, language="de"
        ):
            for row in section.rows:
                labels.setdefault(row.path, row.label)
    except Exception:
        labels = {}
    by_answer = _attachment_paths(submission.answers)
    groups: dict[str, DocumentGroup] = {}
    for attachment in attachments:
        if attachment.info_request_id is not None:
            # Sent with an answer to a Rückfrage, not for a field of the form.
            path = ANSWER_FILES_PATH
        else:
            path = by_answer.get(str(attachment.pk)) or _path_of_field_name(attachment.field_path)
        group = groups.get(path)
        if group is None:
            if path == ANSWER_FILES_PATH:
                label = str(_("Antworten auf Rückfragen"))
            else:
                label = labels.get(path) or str(
                    _("Weitere Unterlagen (%(field)s)") % {"field": path}
                )
            group = groups[path] = DocumentGroup(path=path, label=label)
        group.attachments.append(attachment)
    order = {path: position for position, path in enumerate(labels)}
    return sorted(
        groups.values(), key=lambda group: (order.get(group.path, len(order)), group.path)
    )
