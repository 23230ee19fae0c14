"""The citizen's answer to a Rückfrage on the status page: the form and what sending it does.

One post carries the text, new files and files to remove, so the page works
without JavaScript. Files that pass the upload check are stored at once and
wait with the request, so a refused file or a too long text costs nothing
already given: the page comes back with the text as typed and the stored files
listed; the answer is sent only when nothing was refused.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from forms_catalog.fields.file import format_size, limits_text, page_upload_note, size_message
from submissions.info_requests import (
    ANSWER_MAX_CHARS,
    InfoAnswerEmpty,
    InfoRequestNotAnswerable,
    info_request_answer,
    info_request_answerable,
    info_request_files,
    info_request_for_citizen,
)
from submissions.models import InfoRequest, Submission

from .forms import PortalForm
from .uploads import (
    AttachmentRejected,
    answer_limits,
    info_request_attachment_create,
    info_request_attachment_delete,
)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class UploadsField(forms.FileField):
    """The file input of the answer; its files are checked and stored by `info_reply_submit`."""

    widget = MultipleFileInput

    def clean(self, data, initial=None):
        return None


class InfoReplyForm(PortalForm):
    answer = forms.CharField(
        label=_("Ihre Antwort"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 8}),
    )
    files = UploadsField(label=_("Dateien hinzufügen"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        limits = answer_limits()
        self.fields["answer"].help_text = gettext(
            "Höchstens %(count)s Zeichen. Sie können stattdessen oder zusätzlich Dateien senden."
        ) % {"count": number_format(ANSWER_MAX_CHARS, force_grouping=True)}
        files = self.fields["files"]
        files.help_text = limits_text(limits)
        files.widget.attrs.update(
            {
                "accept": limits.accept,
                "data-portal-max-bytes": str(limits.max_bytes),
                "data-portal-size-message": size_message(
                    name="{name}", size="{size}", limit=limits.max_bytes
                ),
            }
        )

    def clean_answer(self) -> str:
        value = self.cleaned_data.get("answer", "")
        if len(value) > ANSWER_MAX_CHARS:
            raise forms.ValidationError(
                gettext(
                    "Ihre Antwort ist zu lang (%(length)s Zeichen). Erlaubt sind höchstens "
                    "%(count)s Zeichen. Längere Texte können Sie als PDF-Datei hochladen."
                )
                % {
                    "length": number_format(len(value), force_grouping=True),
                    "count": number_format(ANSWER_MAX_CHARS, force_grouping=True),
                }
            )
        return value


@dataclass
class ReplyOutcome:
    """What sending the form did: `sent` the answered request, or else the problems."""

    sent: InfoRequest | None = None
    not_answerable: str = ""
    stored: list[str] = field(default_factory=list)


def _request_id(raw: object) -> int | None:
    return int(raw) if isinstance(raw, str) and raw.isdigit() and len(raw) <= 18 else None


def info_reply_submit(
    *,
    submission: Submission,
    form: InfoReplyForm,
    request_id: object,
    uploads: Iterable[UploadedFile],
    remove: Iterable[str],
) -> ReplyOutcome:
    """Apply one post of the answer form; send the answer if nothing was refused.

    The caller has checked that this browser may see `submission`. Refused
    files are reported on the form's "files" field, a bad text on "answer";
    a request that cannot be answered (answered, replaced, case closed, a
    forged id) in `not_answerable`. Files removed or stored stay so even when
    the answer is not sent yet.
    """
    outcome = ReplyOutcome()
    key = _request_id(request_id)
    try:
        for attachment_id in list(remove)[:50]:
            info_request_attachment_delete(
                submission_id=submission.pk, request_id=key, attachment_id=attachment_id
            )
        for upload in uploads:
            if not getattr(upload, "name", ""):
                continue
            try:
                attachment = info_request_attachment_create(
                    submission_id=submission.pk, request_id=key, upload=upload
                )
            except AttachmentRejected as refused:
                form.add_error("files", refused.message)
            else:
                outcome.stored.append(attachment.original_name)
        if not form.is_valid():
            return outcome
        outcome.sent = info_request_answer(
            submission_id=submission.pk, request_id=key, answer=form.cleaned_data["answer"]
        )
    except InfoAnswerEmpty as refused:
        form.add_error("answer", refused.message)
    except InfoRequestNotAnswerable as refused:
        outcome.not_answerable = refused.message
    return outcome


def info_panel(
    *, submission: Submission, form: InfoReplyForm | None = None, not_answerable: str = ""
) -> dict:
    """What the status page shows of the Rückfrage: the open (or last answered) request,
    whether it can be answered, its files, the form; {} when there is none."""
    info_request = info_request_for_citizen(submission=submission)
    if info_request is None:
        return {}
    answerable = info_request_answerable(info_request=info_request, submission=submission)
    return {
        "request": info_request,
        "answerable": answerable and not not_answerable,
        "not_answerable": not_answerable,
        "files": info_request_files(info_request=info_request),
        "form": form or InfoReplyForm(),
        "deadline_passed": info_request.is_open and timezone.localdate() > info_request.deadline,
        "max_request_bytes": settings.PORTAL_MAX_REQUEST_BYTES,
        "upload_note": page_upload_note([answer_limits()]),
        # The wizard's message (upload-limits.js fills in {size}).
        "request_size_message": gettext(
            "Die gewählten Dateien sind zusammen %(size)s groß; auf einmal können höchstens "
            "%(limit)s gesendet werden. Bitte laden Sie sie nacheinander hoch: Angenommene "
            "Dateien bleiben gespeichert."
        )
        % {"size": "{size}", "limit": format_size(settings.PORTAL_MAX_REQUEST_BYTES)},
    }
