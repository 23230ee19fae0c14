"""The clerk asks a Rückfrage: a page of the case admin, from a template or free text.

Resolves the case through the case admin's `_case_or_404` (scoped by
`cases_for_user`, refusals audited, 404 for another office's case) and writes
only through `info_requests.case_request_info`, which checks the scoping again.
Works without JavaScript: choosing a template reloads the page with its text.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from submissions.client_address import client_address_resolve
from submissions.models import Submission

from ..info_requests import ASKABLE_STATUSES, case_request_info, default_deadline
from ..message_templates import (
    message_templates_for_case,
    message_text_fill,
    placeholder_values,
    placeholders_help,
)
from ..texts import MAX_TEXT_LENGTH, CaseWorkError


class InfoRequestForm(forms.Form):
    question = forms.CharField(
        label=_("Rückfrage an die antragstellende Person"),
        widget=forms.Textarea(attrs={"rows": 10, "cols": 80}),
        max_length=MAX_TEXT_LENGTH,
        error_messages={
            "required": _("Bitte formulieren Sie die Rückfrage."),
            "max_length": _("Der Text ist zu lang (höchstens %(limit_value)d Zeichen)."),
        },
    )
    deadline = forms.DateField(
        label=_("Frist (Antwort bis)"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        input_formats=["%Y-%m-%d", "%d.%m.%Y"],
        error_messages={
            "required": _("Bitte geben Sie eine Frist an."),
            "invalid": _("Bitte geben Sie die Frist als Datum an, z. B. 24.12.2026."),
        },
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["question"].help_text = _(
            "Platzhalter wie {frist} werden beim Senden ersetzt. Verfügbar: %(names)s."
        ) % {"names": placeholders_help()}


def _template_choice(request: HttpRequest, case: Submission):
    raw = request.GET.get("vorlage", "")
    if not raw.isdigit() or len(raw) > 18:
        return None
    # Only the case's own office and service: another office's template id gives nothing.
    return message_templates_for_case(submission=case).filter(pk=int(raw)).first()


def info_request_view(model_admin, request: HttpRequest, object_id: str) -> HttpResponse:
    case = model_admin._case_or_404(request, object_id)
    case_url = reverse(
        f"{model_admin.admin_site.name}:submissions_submission_change", args=[case.pk]
    )
    if case.purged_at is not None or case.status not in ASKABLE_STATUSES:
        messages.error(
            request,
            _("Für diesen Antrag kann keine Rückfrage gestellt werden (Status: %(status)s).")
            % {"status": case.get_status_display()},
        )
        return HttpResponseRedirect(case_url)
    templates = list(message_templates_for_case(submission=case))
    chosen = _template_choice(request, case)
    if request.method == "POST":
        form = InfoRequestForm(request.POST)
        if form.is_valid():
            try:
                info_request = case_request_info(
                    submission=case,
                    actor=request.user,
                    question=form.cleaned_data["question"],
                    deadline=form.cleaned_data["deadline"],
                    ip_address=client_address_resolve(request=request),
                )
            except CaseWorkError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(
                    request,
                    _(
                        "Rückfrage gesendet (Frist %(deadline)s). Die antragstellende Person "
                        "wird per E-Mail benachrichtigt."
                    )
                    % {"deadline": date_format(info_request.deadline, "d.m.Y")},
                )
                return HttpResponseRedirect(case_url)
    else:
        question = ""
        if chosen is not None:
            question = message_text_fill(
                text=chosen.body, values=placeholder_values(submission=case, deadline=None)
            )
        form = InfoRequestForm(initial={"question": question, "deadline": default_deadline()})
    context = {
        **model_admin.admin_site.each_context(request),
        "title": _("Rückfrage zum Antrag %(reference)s") % {"reference": case.reference},
        "subtitle": None,
        "opts": model_admin.opts,
        "case": case,
        "case_url": case_url,
        "form": form,
        "templates": templates,
        "chosen": chosen,
    }
    return TemplateResponse(request, "admin/portal/case/info_request_form.html", context)


def info_request_urls(model_admin) -> list:
    """The case admin's URL for asking (listed before its catch-all)."""
    wrap = model_admin.admin_site.admin_view
    prefix = f"{model_admin.opts.app_label}_{model_admin.opts.model_name}"

    def view(request, object_id):
        return info_request_view(model_admin, request, object_id)

    return [
        path("<path:object_id>/rueckfrage/", wrap(view), name=f"{prefix}_info_request"),
    ]
