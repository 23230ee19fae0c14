"""The clerks' back office in the Django admin.

Scoping is decided in one place, `case_selectors.cases_for_user`; every view
of this module (list, case page, history, delete, actions, export, PDF and
attachment downloads) resolves a case through it and answers 404 for a case
the user may not see, whatever URL or ID is tried. Writes go through the
services in `casework`.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable
from types import SimpleNamespace

from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.utils import unquote
from django.contrib.admin.views.main import SEARCH_VAR
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.http import (
    Http404,
    HttpRequest,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
    StreamingHttpResponse,
)
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from forms_catalog.selectors import summarize
from forms_catalog.validators import filename_clean
from submissions.client_address import client_address_resolve
from submissions.models import Submission

from .. import case_selectors
from ..audit import audit_record, audit_refusal_record, audit_search_record
from ..casework import (
    ALLOWED_TRANSITIONS,
    COMMENT_REQUIRED,
    CaseWorkError,
    case_add_note,
    case_assign,
    case_bulk_assign,
    case_transition,
)
from ..decisions import DECISION_STATUSES
from ..event_labels import (
    audit_detail_display,
    event_label,
    local_time_display,
    size_display,
    staff_name,
    staff_names_by_username,
    status_label,
)
from ..models import AuditEntry, StaffMembership
from ..workbench import (
    case_documents_zip,
    case_hand_over_mark,
    case_resubmission_set,
    resubmission_date_parse,
)
from ..workbench_selectors import case_documents
from .common import CappedCountPaginator, ReadOnlyMixin, search_term_clean
from .decisions import decision_urls
from .exports import case_statistics_csv_response, cases_csv_response
from .files import private_file_response
from .filters import (
    AgeFilter,
    AssignedFilter,
    DueFilter,
    GemeindeFilter,
    OfficeFilter,
    PeriodFilter,
)
from .info_requests import info_request_urls

# The pipeline's action on cases (its Delivery admin is registered in `pipeline`).
from .pipeline import retry_pipeline

logger = logging.getLogger(__name__)

STATUS_CHANGED = _("Status geändert: %(status)s. Die antragstellende Person wird benachrichtigt.")


def _cell(text) -> str:
    """A list cell that may be cut to one line: the full text stays in its title."""
    return format_html('<span class="cell-line" title="{0}">{0}</span>', text)


def _status_change(event) -> str:
    """ "eingegangen → in Bearbeitung" for a status event, "" for any other."""
    if not event.to_status:
        return ""
    return f"{status_label(event.from_status) or '–'} → {status_label(event.to_status)}"


# --- Answers as the citizen saw them -----------------------------------------


def _flat_value(value) -> str:
    if isinstance(value, list):
        return "; ".join(_flat_value(item) for item in value)
    if isinstance(value, dict):
        if "attachment_id" in value:
            return str(value.get("name", ""))
        return ", ".join(f"{key}: {_flat_value(item)}" for key, item in value.items())
    if value is True:
        return "ja"
    if value is False:
        return "nein"
    return "" if value is None else str(value)


def case_answer_sections(*, submission: Submission) -> tuple[list, bool]:
    """The answers as labelled sections; (sections, True) when the catalogue could summarise them.

    Falls back to a plain listing of the stored answers (escaped by the
    template) so a clerk can always read a case, even one whose form
    definition the summariser cannot handle.
    """
    if submission.purged_at is not None:
        return [], True
    try:
        return (
            summarize(
                version=submission.form_version,
                answers=submission.answers,
                language="de",
            ),
            True,
        )
    except Exception:
        logger.exception("could not summarise the answers of %s", submission.reference)
    rows = [
        SimpleNamespace(label=str(key), value=_flat_value(value))
        for key, value in (submission.answers or {}).items()
    ]
    return [SimpleNamespace(title=_("Angaben"), rows=rows)], False


# --- The case admin -------------------------------------------------------------


@admin.register(Submission)
class SubmissionAdmin(ReadOnlyMixin, admin.ModelAdmin):
    # Read-only: cases are worked through the case-work services, and never
    # deleted by hand (retention removes personal data).
    # Fits 1280 px beside the filters: short labels, one line per cell, long
    # texts cut with an ellipsis and given in full as the cell's title
    # (backoffice.css: the table is laid out to its container's width).
    list_display = (
        "reference",
        "applicant_display",
        "service_display",
        "status_display",
        "age_display",
        "assigned_display",
        "office_display",
    )
    list_display_links = ("reference",)
    list_filter = (
        "status",
        "service",
        GemeindeFilter,
        AssignedFilter,
        AgeFilter,
        DueFilter,
        OfficeFilter,
        PeriodFilter,
    )
    search_fields = ("reference", "applicant_name")
    search_help_text = _(
        "Aktenzeichen (Anfang genügt, z. B. TH-2026-7K) oder Name der antragstellenden Person"
    )
    ordering = ("-submitted_at",)
    sortable_by = ("reference", "age_display", "status_display")
    list_per_page = 50
    list_max_show_all = 200
    show_full_result_count = False
    paginator = CappedCountPaginator
    list_select_related = ("service", "gemeinde", "assigned_to", "office")
    actions = ["take_cases", "assign_selected", "export_csv", "export_statistics_csv"]

    class Media:
        # The back office's look: the list's column widths and one-line cells.
        css = {"all": ("backoffice/backoffice.css",)}

    # --- permissions: cases are worked through services, never edited as a form
    def has_module_permission(self, request):
        return case_selectors.can_work_cases(user=request.user)

    def has_view_permission(self, request, obj=None):
        return case_selectors.can_work_cases(user=request.user)

    def has_export_permission(self, request):
        return case_selectors.is_platform_admin(user=request.user) or request.user.has_perm(
            "backoffice.export_cases"
        )

    def has_assign_permission(self, request):
        # Leads (and platform administrators); the staff offered are scoped per office.
        return case_selectors.is_platform_admin(user=request.user) or (
            request.user.has_perm("backoffice.assign_cases")
            and bool(
                case_selectors.office_ids_for_user(
                    user=request.user, roles=(StaffMembership.Role.LEAD,)
                )
            )
        )

    def has_work_permission(self, request):
        return case_selectors.can_work_cases(user=request.user)

    def get_queryset(self, request):
        return case_selectors.cases_for_user(user=request.user).select_related(
            "service", "gemeinde", "assigned_to", "office"
        )

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        # Offered to everyone who works cases (the list is already scoped);
        # the pipeline's action asks for "change", which nobody has here.
        for action in (retry_pipeline,):
            name, description = action.__name__, getattr(action, "short_description", None)
            actions[name] = (action, name, description or name)
        return actions

    # --- list columns
    @admin.display(description=_("Name"))
    def applicant_display(self, obj):
        if obj.purged_at is not None:
            return _("(gelöscht)")
        return _cell(obj.applicant_name or "–")

    @admin.display(description=_("Leistung / Gemeinde"))
    def service_display(self, obj):
        return format_html(
            '<span class="cell-line" title="{0}">{0}</span>'
            '<span class="cell-line cell-secondary" title="{1}">{1}</span>',
            obj.service.name_de,
            obj.gemeinde.name,
        )

    @admin.display(description=_("Status"), ordering="status")
    def status_display(self, obj):
        label = status_label(obj.status)
        if obj.resubmission_on is not None and obj.resubmission_on <= timezone.localdate():
            return format_html(
                '<span class="cell-line" title="{0}">{0}</span>'
                '<span class="cell-line cell-due">{1}</span>',
                label,
                _("Wiedervorlage fällig"),
            )
        return _cell(label)

    @admin.display(description=_("Tage"), ordering="-submitted_at")
    def age_display(self, obj):
        return (timezone.now() - obj.submitted_at).days

    @admin.display(description=_("Bearbeitung"))
    def assigned_display(self, obj):
        return _cell(staff_name(obj.assigned_to)) if obj.assigned_to else "–"

    @admin.display(description=_("Behörde"))
    def office_display(self, obj):
        return _cell(obj.office.name) if obj.office else "–"

    def get_list_display(self, request):
        # The office column tells nothing to someone who works for one office only.
        columns = list(super().get_list_display(request))
        if not case_selectors.is_platform_admin(user=request.user) and (
            len(case_selectors.office_ids_for_user(user=request.user)) <= 1
        ):
            columns.remove("office_display")
        return columns

    def get_search_results(self, request, queryset, search_term):
        term = search_term_clean(search_term)
        if not term:
            return queryset, False
        if term.upper().startswith("TH-"):
            # References are upper case; a prefix match uses the pattern index.
            return queryset.filter(reference__startswith=term.upper()), False
        return queryset.filter(applicant_name__icontains=term), False

    # --- scoping helpers
    def _require_case_user(self, request: HttpRequest) -> None:
        if not case_selectors.can_work_cases(user=request.user):
            raise Http404

    def _case_or_404(self, request: HttpRequest, object_id: str) -> Submission:
        self._require_case_user(request)
        try:
            pk = int(unquote(str(object_id)))
        except (TypeError, ValueError):
            raise Http404 from None
        case = self.get_queryset(request).filter(pk=pk).first()
        if case is None:
            self._record_refusals(request, ids={pk})
            raise Http404
        return case

    def _record_refusals(self, request: HttpRequest, *, ids: set[int]) -> None:
        """Audit every case among `ids` that exists but lies outside the user's offices.

        The 404 the caller then gives is the same as for a missing case.
        """
        ids = {pk for pk in ids if 0 < pk < 2**63}  # no case has any other id
        # Bounded: a forged form with thousands of ids must not write thousands of rows.
        for foreign in (
            Submission.objects.filter(pk__in=ids)
            .exclude(pk__in=self.get_queryset(request).filter(pk__in=ids).values("pk"))
            .only("id", "reference", "office_id")
            .order_by("pk")[:20]
        ):
            audit_refusal_record(
                actor=request.user,
                submission=foreign,
                what=f"{request.method} {request.path}",
                ip_address=client_address_resolve(request=request),
            )

    # --- views
    def changelist_view(self, request, extra_context=None):
        self._require_case_user(request)
        if request.method == "POST" and "action" in request.POST:
            # Actions only ever see the scoped queryset; a forged ID of another
            # office is refused outright instead of being silently dropped.
            selected = request.POST.getlist(ACTION_CHECKBOX_NAME)
            if not all(value.isdigit() for value in selected):
                raise Http404
            if any(len(value) > 18 for value in selected):
                raise Http404  # beyond bigint: no case has such an id
            ids = {int(value) for value in selected}
            if ids and self.get_queryset(request).filter(pk__in=ids).count() != len(ids):
                self._record_refusals(request, ids=ids)
                raise Http404
        else:
            # The search term goes into its own entry (hashed unless an Aktenzeichen),
            # never in clear into the list's entry.
            query = request.GET.copy()
            term = search_term_clean(query.pop(SEARCH_VAR, [""])[-1])
            audit_record(
                actor=request.user,
                action=AuditEntry.Action.VIEW_LIST,
                ip_address=client_address_resolve(request=request),
                detail=query.urlencode()[:500],
            )
            if term:
                audit_search_record(
                    actor=request.user,
                    term=term,
                    where="Antragsliste",
                    ip_address=client_address_resolve(request=request),
                )
        # Without the admin's navigation sidebar: the list's columns get its width.
        extra_context = {
            "title": _("Anträge"),
            "is_nav_sidebar_enabled": False,
            **(extra_context or {}),
        }
        return super().changelist_view(request, extra_context)

    def add_view(self, request, form_url="", extra_context=None):
        self._require_case_user(request)
        raise PermissionDenied

    def delete_view(self, request, object_id, extra_context=None):
        self._case_or_404(request, object_id)
        raise PermissionDenied

    def history_view(self, request, object_id, extra_context=None):
        case = self._case_or_404(request, object_id)
        audit_record(
            actor=request.user,
            action=AuditEntry.Action.VIEW_HISTORY,
            submission=case,
            ip_address=client_address_resolve(request=request),
        )
        return super().history_view(request, str(case.pk), extra_context)

    def get_object(self, request, object_id, from_field=None):
        # Used by the inherited views (history): scoped like everything else.
        try:
            return self.get_queryset(request).get(pk=int(object_id))
        except (TypeError, ValueError, Submission.DoesNotExist):
            return None

    def change_view(self, request, object_id, form_url="", extra_context=None):
        case = self._case_or_404(request, object_id)
        if request.method != "GET":
            return HttpResponseNotAllowed(["GET"])
        audit_record(
            actor=request.user,
            action=AuditEntry.Action.VIEW_CASE,
            submission=case,
            ip_address=client_address_resolve(request=request),
        )
        sections, summarised = case_answer_sections(submission=case)
        user = request.user
        can_assign = case_selectors.can_assign_others(user=user, submission=case)
        # Approving and rejecting go through the decision panel (with confirmation).
        next_statuses = [
            (status, Submission.Status(status).label, status in COMMENT_REQUIRED)
            for status in Submission.Status.values
            if status in ALLOWED_TRANSITIONS.get(case.status, set())
            and status not in DECISION_STATUSES
        ]
        show_audit = case_selectors.is_platform_admin(user=user) or user.has_perm(
            "backoffice.view_auditentry"
        )
        events = list(case.events.select_related("actor").order_by("created_at", "id"))
        audit_entries = (
            list(case.audit_entries.select_related("actor").order_by("-created_at", "-id")[:100])
            if show_audit
            else None
        )
        names = staff_names_by_username(
            {event.comment for event in events if event.kind == "assigned"}
            | {
                part
                for entry in audit_entries or []
                if entry.action == AuditEntry.Action.ASSIGN
                for part in entry.detail.split(" -> ")
            }
        )
        documents = case_documents(submission=case)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Antrag %(reference)s") % {"reference": case.reference},
            "subtitle": None,
            "opts": self.opts,
            # Two columns need the width of the admin's navigation sidebar.
            "is_nav_sidebar_enabled": False,
            "case": case,
            "sections": sections,
            "summarised": summarised,
            "documents": [
                (
                    group.label,
                    [
                        (attachment, size_display(attachment.size))
                        for attachment in group.attachments
                    ],
                )
                for group in documents
            ],
            "pdfs": [
                (kind, label)
                for kind, label, field in (
                    ("office", _("Antrag (PDF für die Behörde)"), case.office_pdf),
                    ("receipt", _("Eingangsbestätigung (PDF)"), case.receipt_pdf),
                )
                if field and field.name
            ],
            "history": [
                {
                    "at": local_time_display(event.created_at),
                    "label": event_label(event.kind),
                    "change": _status_change(event),
                    "comment": names.get(event.comment, event.comment)
                    if event.kind == "assigned"
                    else event.comment,
                    "actor": staff_name(event.actor) if event.actor_id else "",
                    "visible": event.visible_to_citizen,
                }
                for event in events
            ],
            "messages_to_citizen": [
                {
                    "at": local_time_display(event.created_at),
                    "from_office": event.actor_id is not None,
                    "author": staff_name(event.actor) if event.actor_id else "",
                    "label": event_label(event.kind),
                    "status": status_label(event.to_status),
                    "text": event.comment,
                }
                for event in events
                if event.visible_to_citizen and event.comment
            ],
            "notes": [
                {
                    "at": local_time_display(note.created_at),
                    "author": staff_name(note.author),
                    "text": note.text,
                    "purged": note.purged_at is not None,
                }
                for note in case.notes.select_related("author").order_by("created_at", "id")
            ],
            "deliveries": list(case.deliveries.order_by("channel")),
            "next_statuses": next_statuses,
            "comment_required": [s for s, _l, required in next_statuses if required],
            "can_assign": can_assign,
            "assignable": [
                (person.pk, staff_name(person))
                for person in case_selectors.assignable_staff(submission=case)
            ]
            if can_assign
            else [],
            "assignee_name": staff_name(case.assigned_to) if case.assigned_to_id else "–",
            "can_take": case.assigned_to_id != user.pk
            and case.office_id in case_selectors.office_ids_for_user(user=user),
            "can_release": case.assigned_to_id == user.pk,
            "audit_entries": [
                {
                    "at": local_time_display(entry.created_at, seconds=True),
                    "actor": staff_name(entry.actor)
                    if entry.actor_id
                    else (entry.actor_username or "–"),
                    "action": entry.get_action_display(),
                    "detail": audit_detail_display(entry, names=names),
                    "ip": entry.ip_address or "–",
                }
                for entry in audit_entries
            ]
            if audit_entries is not None
            else None,
            "age_days": (timezone.now() - case.submitted_at).days,
            "submitted_display": local_time_display(case.submitted_at),
            "decided_display": local_time_display(case.decided_at) if case.decided_at else "",
            "handed_over_display": local_time_display(case.handed_over_at)
            if case.handed_over_at
            else "",
            "resubmission_due": case.resubmission_on is not None
            and case.resubmission_on <= timezone.localdate(),
            "today_iso": timezone.localdate().isoformat(),
        }
        return TemplateResponse(request, "admin/portal/case_page.html", context)

    # --- case work URLs
    def get_urls(self):
        wrap = self.admin_site.admin_view
        prefix = f"{self.opts.app_label}_{self.opts.model_name}"
        return [
            path(
                "<path:object_id>/transition/",
                wrap(self.transition_view),
                name=f"{prefix}_transition",
            ),
            path("<path:object_id>/assign/", wrap(self.assign_view), name=f"{prefix}_assign"),
            path("<path:object_id>/note/", wrap(self.note_view), name=f"{prefix}_note"),
            *decision_urls(self),
            path(
                "<path:object_id>/unterlagen-zip/",
                wrap(self.documents_zip_view),
                name=f"{prefix}_documents_zip",
            ),
            path(
                "<path:object_id>/fachverfahren-zip/",
                wrap(self.hand_over_zip_view),
                name=f"{prefix}_hand_over_zip",
            ),
            path(
                "<path:object_id>/uebergeben/",
                wrap(self.hand_over_view),
                name=f"{prefix}_hand_over",
            ),
            path(
                "<path:object_id>/wiedervorlage/",
                wrap(self.resubmission_view),
                name=f"{prefix}_resubmission",
            ),
            path(
                "<path:object_id>/pdf/<str:kind>/",
                wrap(self.pdf_view),
                name=f"{prefix}_pdf",
            ),
            path(
                "<path:object_id>/attachment/<str:attachment_id>/",
                wrap(self.attachment_view),
                name=f"{prefix}_attachment",
            ),
            *info_request_urls(self),
            *[
                pattern
                for pattern in super().get_urls()
                if str(pattern.pattern) != "<path:object_id>/"
            ],
            # Django's own catch-all redirects any ID to the change page; this
            # one answers 404 right away for a case the user may not see.
            path("<path:object_id>/", wrap(self.case_redirect_view)),
        ]

    def case_redirect_view(self, request, object_id):
        return self._back_to_case(self._case_or_404(request, object_id))

    def _back_to_case(self, case: Submission) -> HttpResponseRedirect:
        return HttpResponseRedirect(
            reverse(f"{self.admin_site.name}:submissions_submission_change", args=[case.pk])
        )

    def _post_case(self, request: HttpRequest, object_id: str) -> Submission:
        case = self._case_or_404(request, object_id)
        if request.method != "POST":
            raise PermissionDenied
        return case

    def _case_work(
        self,
        request: HttpRequest,
        case: Submission,
        work: Callable[[], object],
        success: Callable[[], str],
    ) -> HttpResponseRedirect:
        """Run one case-work service and go back to the case page.

        A refusal (CaseWorkError) is shown to the clerk as a message, never as
        an error page. `success` is called after the work, so it can describe
        the case as the service left it.
        """
        try:
            work()
        except CaseWorkError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, success())
        return self._back_to_case(case)

    def transition_view(self, request, object_id):
        case = self._post_case(request, object_id)
        if request.POST.get("to_status") in DECISION_STATUSES:
            # A decision is never one click: it takes the confirmation of the decision page.
            messages.error(request, _("Bitte entscheiden Sie über „Entscheidung“ mit Bestätigung."))
            return self._back_to_case(case)
        return self._case_work(
            request,
            case,
            lambda: case_transition(
                submission=case,
                to_status=request.POST.get("to_status", ""),
                actor=request.user,
                comment=request.POST.get("comment", ""),
                ip_address=client_address_resolve(request=request),
            ),
            lambda: STATUS_CHANGED % {"status": case.get_status_display()},
        )

    def assign_view(self, request, object_id):
        case = self._post_case(request, object_id)
        raw = request.POST.get("assignee", "")
        if raw == "me":
            assignee = request.user
        elif raw in ("", "none"):
            assignee = None
        elif raw.isdigit():
            assignee = get_user_model().objects.filter(pk=int(raw)).first()
            if assignee is None:
                messages.error(request, _("Unbekannte Person."))
                return self._back_to_case(case)
        else:
            messages.error(request, _("Unbekannte Person."))
            return self._back_to_case(case)
        return self._case_work(
            request,
            case,
            lambda: case_assign(
                submission=case,
                assignee=assignee,
                actor=request.user,
                ip_address=client_address_resolve(request=request),
            ),
            lambda: _("Zuweisung gespeichert."),
        )

    def note_view(self, request, object_id):
        case = self._post_case(request, object_id)
        return self._case_work(
            request,
            case,
            lambda: case_add_note(
                submission=case,
                actor=request.user,
                text=request.POST.get("text", ""),
                ip_address=client_address_resolve(request=request),
            ),
            lambda: _("Notiz gespeichert."),
        )

    def _zip_response(self, request, object_id, *, for_hand_over: bool):
        case = self._case_or_404(request, object_id)
        try:
            filename, chunks = case_documents_zip(
                submission=case,
                actor=request.user,
                for_hand_over=for_hand_over,
                ip_address=client_address_resolve(request=request),
            )
        except Submission.DoesNotExist:
            raise Http404 from None
        except CaseWorkError as exc:
            messages.error(request, str(exc))
            return self._back_to_case(case)
        response = StreamingHttpResponse(chunks, content_type="application/zip")
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        response["X-Content-Type-Options"] = "nosniff"
        response["Cache-Control"] = "private, no-store"
        response["Content-Security-Policy"] = "default-src 'none'; sandbox"
        return response

    def documents_zip_view(self, request, object_id):
        """All documents of the case (office PDF, uploads by field) as one streamed ZIP."""
        return self._zip_response(request, object_id, for_hand_over=False)

    def hand_over_zip_view(self, request, object_id):
        """The export for the office's Fachverfahren: PDF, JSON export, manifest, uploads."""
        return self._zip_response(request, object_id, for_hand_over=True)

    def _scoped_work(self, request, case, work, success):
        # A case that left the user's scope between the check and the service: 404.
        try:
            return self._case_work(request, case, work, success)
        except Submission.DoesNotExist:
            self._record_refusals(request, ids={case.pk})
            raise Http404 from None

    def hand_over_view(self, request, object_id):
        case = self._post_case(request, object_id)
        return self._scoped_work(
            request,
            case,
            lambda: case_hand_over_mark(
                submission=case,
                actor=request.user,
                reference=request.POST.get("handed_over_reference", ""),
                ip_address=client_address_resolve(request=request),
            ),
            lambda: (
                _("Als an das Fachverfahren übergeben markiert (Aktenzeichen %(ref)s).")
                % {"ref": case.handed_over_reference}
            ),
        )

    def resubmission_view(self, request, object_id):
        case = self._post_case(request, object_id)

        def work():
            on = (
                None
                if "clear" in request.POST
                else resubmission_date_parse(request.POST.get("resubmission_on"))
            )
            case_resubmission_set(
                submission=case,
                actor=request.user,
                on=on,
                note=request.POST.get("resubmission_note", ""),
                ip_address=client_address_resolve(request=request),
            )

        return self._scoped_work(
            request,
            case,
            work,
            lambda: (
                _("Wiedervorlage gespeichert.")
                if case.resubmission_on
                else _("Wiedervorlage entfernt.")
            ),
        )

    def pdf_view(self, request, object_id, kind):
        case = self._case_or_404(request, object_id)
        field = {"office": case.office_pdf, "receipt": case.receipt_pdf}.get(kind)
        if not field or not field.name:
            raise Http404
        audit_record(
            actor=request.user,
            action=AuditEntry.Action.DOWNLOAD_PDF,
            submission=case,
            ip_address=client_address_resolve(request=request),
            detail=kind,
        )
        return private_file_response(
            storage=field.storage,
            name=field.name,
            filename=f"{case.reference}-{kind}.pdf",
            content_type="application/pdf",
        )

    def attachment_view(self, request, object_id, attachment_id):
        case = self._case_or_404(request, object_id)
        if not re.fullmatch(r"[0-9a-fA-F-]{32,36}", attachment_id or ""):
            raise Http404
        try:
            attachment = case.attachments.filter(pk=uuid.UUID(attachment_id)).first()
        except ValueError as exc:  # not a UUID after all
            raise Http404 from exc
        if attachment is None or not attachment.file:
            raise Http404
        audit_record(
            actor=request.user,
            action=AuditEntry.Action.DOWNLOAD_ATTACHMENT,
            submission=case,
            ip_address=client_address_resolve(request=request),
            detail=str(attachment.pk),
        )
        return private_file_response(
            storage=attachment.file.storage,
            name=attachment.file.name,
            filename=filename_clean(attachment.original_name, fallback=f"anhang-{attachment.pk}"),
            content_type=attachment.content_type,
        )

    # --- actions
    @admin.action(description=_("Ausgewählte Anträge mir zuweisen"), permissions=["work"])
    def take_cases(self, request, queryset):
        taken = 0
        for case in queryset:
            try:
                case_assign(
                    submission=case,
                    assignee=request.user,
                    actor=request.user,
                    ip_address=client_address_resolve(request=request),
                )
                taken += 1
            except CaseWorkError as exc:
                messages.error(request, f"{case.reference}: {exc}")
        if taken:
            messages.success(request, _("%(n)d Anträge übernommen.") % {"n": taken})

    @admin.action(
        description=_("Ausgewählte Anträge zuweisen …"),
        permissions=["assign"],
    )
    def assign_selected(self, request, queryset):
        """A confirmation page to pick the person; its form comes back here with "assignee"."""
        cases = list(queryset.order_by("submitted_at", "id")[: self.list_max_show_all])
        offices = {case.office_id for case in cases}
        staff = case_selectors.bulk_assignable_staff(user=request.user, office_ids=offices)
        raw = request.POST.get("assignee")
        if raw is not None:
            if raw == "none":
                assignee = None
            elif raw.isdigit() and len(raw) <= 18 and staff.filter(pk=int(raw)).exists():
                assignee = staff.get(pk=int(raw))
            else:
                # A forged or outdated choice: nothing is assigned.
                messages.error(request, _("Bitte wählen Sie eine Person aus der Liste."))
                return None
            result = case_bulk_assign(
                submissions=cases,
                assignee=assignee,
                actor=request.user,
                ip_address=client_address_resolve(request=request),
            )
            if result.assigned:
                messages.success(request, _("%(n)d Anträge zugewiesen.") % {"n": result.assigned})
            for reference, reason in result.refused:
                messages.error(request, f"{reference}: {reason}")
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": _("Anträge zuweisen"),
            "cases": cases,
            "staff": [(user.pk, user.get_full_name() or user.username) for user in staff],
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/portal/bulk_assign.html", context)

    @admin.action(
        description=_("Ausgewählte Anträge als CSV exportieren (ohne personenbezogene Daten)"),
        permissions=["export"],
    )
    def export_csv(self, request, queryset):
        references = list(queryset.values_list("reference", flat=True)[:200])
        audit_record(
            actor=request.user,
            action=AuditEntry.Action.EXPORT,
            ip_address=client_address_resolve(request=request),
            detail=f"{queryset.count()} cases: " + ", ".join(references),
        )
        return cases_csv_response(queryset=queryset)

    @admin.action(
        description=_("Kennzahlen der ausgewählten Anträge als CSV (je Leistung und Status)"),
        permissions=["export"],
    )
    def export_statistics_csv(self, request, queryset):
        rows = case_selectors.case_statistics(queryset=queryset)
        audit_record(
            actor=request.user,
            action=AuditEntry.Action.EXPORT,
            ip_address=client_address_resolve(request=request),
            detail=f"statistics of {sum(row.count for row in rows)} cases",
        )
        return case_statistics_csv_response(rows=rows)
