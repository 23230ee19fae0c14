"""The decision pages of a case: decide with confirmation, the Bescheid, reopen and correct.

Bound to the case admin by `decision_urls` (its URLs sit under the case's
own), and every view resolves the case through the admin's `_case_or_404`,
so a case of another office answers 404 (and is audited as refused) at each
of them. Nothing here decides anything: the services in `backoffice.decisions`
do, and check scope and role once more.

Deciding takes two posts, never one click: the form (on the case page or
on the decision page) goes to a confirmation page that shows what the
citizen will get; only its "Entscheidung absenden" applies it. Both work
without JavaScript.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _

from submissions.client_address import client_address_resolve
from submissions.decision_letters import (
    decision_letter_filename,
    decision_letter_for_download,
    decision_letters_of,
)
from submissions.models import DecisionLetter, Submission

from ..audit import audit_record
from ..decisions import (
    DecisionTexts,
    can_reopen,
    case_decide,
    case_reopen,
    decision_correct,
    decision_letter_issue,
    decision_prepare,
)
from ..models import AuditEntry
from ..texts import MAX_TEXT_LENGTH, CaseWorkError
from .files import private_file_response

OUTCOME_CHOICES = [
    (DecisionLetter.Outcome.APPROVED, _("bewilligen")),
    (DecisionLetter.Outcome.REJECTED, _("ablehnen")),
]
DECIDED = {
    DecisionLetter.Outcome.APPROVED: _(
        "Der Antrag ist bewilligt. Die antragstellende Person wird benachrichtigt."
    ),
    DecisionLetter.Outcome.REJECTED: _(
        "Der Antrag ist abgelehnt. Die antragstellende Person wird benachrichtigt."
    ),
}


NO_CURRENT_LETTER = _("Es gibt keinen gültigen Bescheid, der berichtigt werden kann.")


def _posted(request: HttpRequest, name: str) -> str:
    # A list or a missing field is the same as empty; the services check length and content.
    return request.POST.get(name, "")


def _with_letter(request: HttpRequest) -> bool:
    return request.POST.get("with_letter", "") in ("1", "on")


class DecisionViews:
    """The views, bound to the case admin whose scoping helpers they use."""

    def __init__(self, model_admin):
        self.model_admin = model_admin

    # --- helpers
    def _case_page(self, case: Submission) -> HttpResponseRedirect:
        return HttpResponseRedirect(
            reverse(
                f"{self.model_admin.admin_site.name}:submissions_submission_change", args=[case.pk]
            )
        )

    def _context(self, request: HttpRequest, case: Submission, title) -> dict:
        return {
            **self.model_admin.admin_site.each_context(request),
            "title": title,
            "subtitle": None,
            "opts": self.model_admin.opts,
            "case": case,
            "max_text_length": MAX_TEXT_LENGTH,
        }

    def _decision_form(
        self, request: HttpRequest, case: Submission, *, error: str = "", status: int = 200
    ) -> TemplateResponse:
        context = self._context(
            request, case, _("Entscheidung zu %(reference)s") % {"reference": case.reference}
        )
        context.update(
            {
                "outcome_choices": OUTCOME_CHOICES,
                "outcome": _posted(request, "outcome"),
                "message": _posted(request, "message")[: MAX_TEXT_LENGTH * 2],
                "with_letter": _with_letter(request) if request.method == "POST" else True,
                "error": error,
            }
        )
        return TemplateResponse(request, "admin/portal/case/decision.html", context, status=status)

    # --- views
    def decision_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """GET: the form. POST step=review: confirmation page; step=confirm: decide; else: form."""
        case = self.model_admin._case_or_404(request, object_id)
        if request.method not in ("GET", "POST"):
            raise PermissionDenied
        if request.method == "GET":
            return self._decision_form(request, case)
        step = _posted(request, "step")
        if step not in ("review", "confirm"):
            # "Ändern" on the confirmation page: back to the filled-in form.
            return self._decision_form(request, case)
        try:
            if step == "review":
                texts = decision_prepare(
                    submission=case,
                    actor=request.user,
                    outcome=_posted(request, "outcome"),
                    message=_posted(request, "message"),
                    with_letter=_with_letter(request),
                )
                return self._confirmation(request, case, texts)
            result = case_decide(
                submission=case,
                actor=request.user,
                outcome=_posted(request, "outcome"),
                message=_posted(request, "message"),
                with_letter=_with_letter(request),
                ip_address=client_address_resolve(request=request),
            )
        except CaseWorkError as exc:
            return self._decision_form(request, case, error=str(exc), status=400)
        messages.success(request, DECIDED[case.status])
        if result.letter is not None:
            messages.success(request, _("Der Bescheid wurde erstellt."))
        return self._case_page(case)

    def _confirmation(
        self, request: HttpRequest, case: Submission, texts: DecisionTexts
    ) -> TemplateResponse:
        context = self._context(
            request,
            case,
            _("Entscheidung bestätigen: %(reference)s") % {"reference": case.reference},
        )
        context["texts"] = texts
        return TemplateResponse(request, "admin/portal/case/decision_confirm.html", context)

    def letter_issue_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        case = self.model_admin._post_case(request, object_id)
        try:
            decision_letter_issue(
                submission=case,
                actor=request.user,
                ip_address=client_address_resolve(request=request),
            )
        except CaseWorkError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(
                request,
                _("Der Bescheid wurde erstellt. Die antragstellende Person wird benachrichtigt."),
            )
        return self._case_page(case)

    def letter_download_view(
        self, request: HttpRequest, object_id: str, letter_id: str
    ) -> HttpResponse:
        case = self.model_admin._case_or_404(request, object_id)
        if not letter_id.isdigit() or len(letter_id) > 18:
            raise Http404
        try:
            letter = decision_letter_for_download(submission=case, letter_id=int(letter_id))
        except DecisionLetter.DoesNotExist:
            raise Http404 from None
        audit_record(
            actor=request.user,
            action=AuditEntry.Action.DOWNLOAD_DECISION_LETTER,
            submission=case,
            ip_address=client_address_resolve(request=request),
            detail=f"letter {letter.pk}",
        )
        return private_file_response(
            storage=letter.file.storage,
            name=letter.file.name,
            filename=decision_letter_filename(letter=letter),
            content_type="application/pdf",
        )

    def _require_lead(self, request: HttpRequest, case: Submission) -> None:
        # The case is the user's to see, so refusing openly tells nothing new.
        if not can_reopen(user=request.user, submission=case):
            raise PermissionDenied

    def reopen_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        case = self.model_admin._case_or_404(request, object_id)
        self._require_lead(request, case)
        error = ""
        if request.method == "POST":
            try:
                case_reopen(
                    submission=case,
                    actor=request.user,
                    reason=_posted(request, "reason"),
                    ip_address=client_address_resolve(request=request),
                )
            except CaseWorkError as exc:
                error = str(exc)
            else:
                messages.success(
                    request,
                    _(
                        "Der Antrag ist wieder in Bearbeitung. Die antragstellende Person wird "
                        "benachrichtigt."
                    ),
                )
                return self._case_page(case)
        elif request.method != "GET":
            raise PermissionDenied
        context = self._context(
            request,
            case,
            _("Entscheidung wieder aufnehmen: %(reference)s") % {"reference": case.reference},
        )
        context.update(
            {"reason": _posted(request, "reason")[: MAX_TEXT_LENGTH * 2], "error": error}
        )
        return TemplateResponse(
            request, "admin/portal/case/reopen.html", context, status=400 if error else 200
        )

    def correct_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        case = self.model_admin._case_or_404(request, object_id)
        self._require_lead(request, case)
        current = next(
            (
                letter
                for letter in reversed(decision_letters_of(submission=case))
                if letter.superseded_at is None
            ),
            None,
        )
        error = ""
        if request.method == "POST":
            try:
                decision_correct(
                    submission=case,
                    actor=request.user,
                    reason=_posted(request, "reason"),
                    body=_posted(request, "body"),
                    message=_posted(request, "message"),
                    ip_address=client_address_resolve(request=request),
                )
            except CaseWorkError as exc:
                error = str(exc)
            else:
                messages.success(
                    request,
                    _(
                        "Der berichtigte Bescheid wurde erstellt und ersetzt den bisherigen. Die "
                        "antragstellende Person wird benachrichtigt."
                    ),
                )
                return self._case_page(case)
        elif request.method != "GET":
            raise PermissionDenied
        if current is None and not error:
            messages.error(
                request, _("Es gibt keinen gültigen Bescheid, der berichtigt werden kann.")
            )
            return self._case_page(case)
        posted = request.method == "POST"
        context = self._context(
            request, case, _("Bescheid berichtigen: %(reference)s") % {"reference": case.reference}
        )
        context.update(
            {
                "current": current,
                "reason": _posted(request, "reason")[: MAX_TEXT_LENGTH * 2],
                "body": _posted(request, "body")[: MAX_TEXT_LENGTH * 2]
                if posted
                else (current.body if current else ""),
                "message": _posted(request, "message")[: MAX_TEXT_LENGTH * 2]
                if posted
                else (current.message if current else ""),
                "error": error,
            }
        )
        return TemplateResponse(
            request, "admin/portal/case/correct.html", context, status=400 if error else 200
        )


def decision_urls(model_admin) -> list:
    """The decision URLs under a case, for the case admin's `get_urls`."""
    views = DecisionViews(model_admin)
    wrap = model_admin.admin_site.admin_view
    prefix = f"{model_admin.opts.app_label}_{model_admin.opts.model_name}"
    return [
        path("<path:object_id>/decision/", wrap(views.decision_view), name=f"{prefix}_decision"),
        path(
            "<path:object_id>/decision/letter/",
            wrap(views.letter_issue_view),
            name=f"{prefix}_decision_letter_issue",
        ),
        path(
            "<path:object_id>/decision/letter/<str:letter_id>/",
            wrap(views.letter_download_view),
            name=f"{prefix}_decision_letter",
        ),
        path(
            "<path:object_id>/decision/reopen/",
            wrap(views.reopen_view),
            name=f"{prefix}_decision_reopen",
        ),
        path(
            "<path:object_id>/decision/correct/",
            wrap(views.correct_view),
            name=f"{prefix}_decision_correct",
        ),
    ]
