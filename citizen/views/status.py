"""Confirmation page, status page (reference + secret, no login), receipt download."""

from __future__ import annotations

from django.conf import settings
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.cache import never_cache

from municipalities.selectors import NoResponsibleOffice, responsible_office
from submissions.access import access_code_resend_request, submission_for_status_link
from submissions.decision_letters import CITIZEN_EVENT_LABELS
from submissions.models import Submission
from submissions.ratelimit import rate_limit_hit, rate_limit_hit_key
from submissions.references import normalize_reference
from submissions.withdrawal import (
    WithdrawalNotPossible,
    submission_withdraw,
    submission_withdrawable,
)

from ..access_codes import submission_access_code_replace
from ..forms import AccessCodeLostForm, StatusLookupForm, WithdrawalForm
from ..selectors import submission_for_citizen
from .common import allow_methods, error_page, too_many_requests

SESSION_KEY = "portal_submissions"
# References whose access code this browser has not been shown yet (no code in here).
PENDING_KEY = "portal_code_pending"
# The access code travels to the confirmation page in a short-lived signed cookie
# scoped to that page, never through the session: session rows sit in the
# database and its backups, and with the reference the code opens the status page.
CODE_COOKIE = "portal_code"
CODE_COOKIE_SECONDS = 15 * 60


def _code_cookie_path(reference: str) -> str:
    return reverse("citizen:confirmation", kwargs={"reference": reference})


def hand_over_access_code(
    request: HttpRequest, response: HttpResponse, *, reference: str, secret: str
) -> None:
    """Give the browser the access code for showing it once on the confirmation page."""
    pending = list(request.session.get(PENDING_KEY, []))
    if reference not in pending:
        request.session[PENDING_KEY] = [*pending[-9:], reference]
    response.set_signed_cookie(
        CODE_COOKIE,
        secret,
        salt=f"{CODE_COOKIE}:{reference}",
        max_age=CODE_COOKIE_SECONDS,
        path=_code_cookie_path(reference),
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


def _take_access_code(request: HttpRequest, reference: str) -> str:
    return request.get_signed_cookie(
        CODE_COOKIE,
        default="",
        salt=f"{CODE_COOKIE}:{reference}",
        max_age=CODE_COOKIE_SECONDS,
    )


def grant_submission(request: HttpRequest, submission: Submission) -> None:
    """Let this browser session see the submission (after submitting or a correct lookup)."""
    granted = list(request.session.get(SESSION_KEY, []))
    if submission.reference not in granted:
        request.session[SESSION_KEY] = [*granted[-9:], submission.reference]


def granted_submission(request: HttpRequest, reference: str) -> Submission:
    if reference not in request.session.get(SESSION_KEY, []):
        raise Http404
    submission = (
        Submission.objects.select_related("office", "gemeinde", "service")
        .filter(reference=reference, purged_at__isnull=True)
        .first()
    )
    if submission is None:
        raise Http404
    return submission


def _history(submission: Submission) -> list[dict]:
    """The history entries meant for the citizen, as (when, what) rows."""
    labels = dict(Submission.Status.choices)
    rows = []
    for event in submission.events.filter(visible_to_citizen=True).order_by("created_at", "id"):
        if event.to_status:
            text = str(labels.get(event.to_status, ""))
        else:
            text = str(CITIZEN_EVENT_LABELS.get(event.kind, ""))
        rows.append({"when": event.created_at, "status": text, "comment": event.comment})
    return rows


@never_cache
@allow_methods("GET", "HEAD")
def confirmation(request: HttpRequest, reference: str) -> HttpResponse:
    submission = granted_submission(request, reference)
    # Shown once: the cookie is deleted with this response, so a reload shows no code.
    # A HEAD request shows nothing, so it uses nothing up.
    showing = request.method == "GET"
    secret = _take_access_code(request, submission.reference) if showing else ""
    pending = list(request.session.get(PENDING_KEY, []))
    if showing and submission.reference in pending:
        if not secret:
            # The code never reached this page (a double click cancels the response that
            # carried it): a new one replaces the unseen one, so the citizen gets a code.
            secret = submission_access_code_replace(submission_id=submission.pk) or ""
        pending.remove(submission.reference)
        request.session[PENDING_KEY] = pending
    office = submission.office
    if office is None:
        # The pipeline records the office in a moment; until then show who will get it.
        try:
            office = responsible_office(service=submission.service, gemeinde=submission.gemeinde)
        except NoResponsibleOffice:
            office = None
    response = render(
        request,
        "submissions/confirmation.html",
        {
            "submission": submission,
            "secret": secret,
            "gemeinde": submission.gemeinde,
            "service_name": submission.service.name(submission.language),
            "receipt_ready": bool(submission.receipt_pdf),
            "office": office,
        },
    )
    if showing and CODE_COOKIE in request.COOKIES:
        response.delete_cookie(
            CODE_COOKIE, path=_code_cookie_path(submission.reference), samesite="Lax"
        )
    return response


@never_cache
@allow_methods("GET", "HEAD", "POST")
def status_lookup(request: HttpRequest) -> HttpResponse:
    form = StatusLookupForm(request.POST if request.method == "POST" else None)
    submission = None
    if request.method == "POST":
        if rate_limit_hit(request=request, scope="status"):
            return too_many_requests(request)
        if form.is_valid():
            submission = submission_for_citizen(
                reference=form.cleaned_data["reference"], secret=form.cleaned_data["secret"]
            )
            if submission is None:
                form.add_error(None, _not_found_message())
            else:
                grant_submission(request, submission)
    return render(
        request,
        "submissions/status.html",
        {
            "form": form,
            "forms_with_errors": [form] if form.errors else [],
            "submission": submission,
            "history": _history(submission) if submission else [],
            "service_name": submission.service.name(request.LANGUAGE_CODE) if submission else "",
            "withdrawable": bool(submission) and submission_withdrawable(submission=submission),
        },
    )


@never_cache
@allow_methods("GET", "HEAD")
def status_detail(request: HttpRequest, reference: str) -> HttpResponse:
    """The status page of one application this browser session may see."""
    submission = granted_submission(request, reference)
    return render(
        request,
        "submissions/status.html",
        {
            "form": None,
            "forms_with_errors": [],
            "submission": submission,
            "history": _history(submission),
            "service_name": submission.service.name(request.LANGUAGE_CODE),
            "withdrawable": submission_withdrawable(submission=submission),
        },
    )


@never_cache
@allow_methods("GET", "HEAD")
def status_link(request: HttpRequest, reference: str, token: str) -> HttpResponse:
    """The personal link from the receipt: opens this one status page, then drops the token.

    The redirect keeps the token out of the address bar, the history and any
    Referer; a wrong, revoked or expired link gets one page for all cases.
    """
    if rate_limit_hit(request=request, scope="status"):
        return too_many_requests(request)
    submission = submission_for_status_link(reference=reference, token=token)
    if submission is None:
        return error_page(
            request,
            status=404,
            title=gettext("Link ungültig oder abgelaufen"),
            message=gettext(
                "Dieser Link zur Statusseite gilt nicht mehr. Er wird ungültig, wenn ein neuer "
                "Zugangscode angefordert wurde, und einige Wochen nach der Entscheidung. Fragen "
                "Sie den Stand mit Aktenzeichen und Zugangscode ab oder lassen Sie sich auf der "
                "Statusseite einen neuen Zugangscode senden."
            ),
        )
    grant_submission(request, submission)
    return redirect("citizen:status_detail", reference=submission.reference)


@never_cache
@allow_methods("GET", "HEAD", "POST")
def withdraw(request: HttpRequest, reference: str) -> HttpResponse:
    """ "Antrag zurückziehen?": a confirm step with an optional reason, then the withdrawal."""
    submission = granted_submission(request, reference)
    form = WithdrawalForm(request.POST if request.method == "POST" else None)
    not_possible = not submission_withdrawable(submission=submission)
    if request.method == "POST" and not not_possible and form.is_valid():
        try:
            submission_withdraw(submission_id=submission.pk, reason=form.cleaned_data["reason"])
        except WithdrawalNotPossible:
            not_possible = True
        else:
            return redirect("citizen:status_detail", reference=submission.reference)
    return render(
        request,
        "submissions/withdraw.html",
        {
            "form": form,
            "forms_with_errors": [form] if form.errors else [],
            "submission": submission,
            "service_name": submission.service.name(request.LANGUAGE_CODE),
            "not_possible": not_possible,
        },
        status=409 if not_possible and request.method == "POST" else 200,
    )


@never_cache
@allow_methods("GET", "HEAD", "POST")
def access_code_lost(request: HttpRequest) -> HttpResponse:
    """ "Zugangscode verloren?": a new code goes to the address given in the application.

    The answer is the same whether the reference exists or not, has an e-mail
    address or not, or is over its own limit, so the form tells nobody which
    references exist. Only the per-client limit answers differently: it is
    about the client, not about the reference.
    """
    form = AccessCodeLostForm(request.POST if request.method == "POST" else None)
    requested = False
    if request.method == "POST":
        if rate_limit_hit(request=request, scope="access_code"):
            return too_many_requests(request)
        if form.is_valid():
            reference = normalize_reference(form.cleaned_data["reference"])
            if reference is None:
                form.add_error("reference", _invalid_reference_message())
            else:
                requested = True
                if not rate_limit_hit_key(scope="access_code_reference", key=reference):
                    access_code_resend_request(reference=reference)
    return render(
        request,
        "submissions/access_code_lost.html",
        {
            "form": form,
            "forms_with_errors": [form] if form.errors else [],
            "requested": requested,
        },
    )


def _invalid_reference_message() -> str:
    # Only the format and check character are checked here, which anyone can compute.
    return gettext(
        "Das ist kein gültiges Aktenzeichen. Es sieht zum Beispiel so aus: TH-2026-7K3M-Q9XD."
    )


def _not_found_message() -> str:
    # One message for both wrong reference and wrong secret, so neither can be probed.
    return gettext(
        "Wir haben keinen Antrag mit diesem Aktenzeichen und Zugangscode gefunden. "
        "Bitte prüfen Sie beide Angaben."
    )


@never_cache
@allow_methods("GET", "HEAD")
def receipt(request: HttpRequest, reference: str) -> HttpResponse:
    submission = granted_submission(request, reference)
    if not submission.receipt_pdf:
        return redirect("citizen:confirmation", reference=reference)
    return FileResponse(
        submission.receipt_pdf.open("rb"),
        as_attachment=True,
        filename=f"Eingangsbestaetigung-{submission.reference}.pdf",
        content_type="application/pdf",
    )
