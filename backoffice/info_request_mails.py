"""The citizen's e-mails of a Rückfrage: the question and the reminder.

Sent like every status e-mail (`notifications.case_notify_citizen`, one
`StatusNotification` per history entry); this module only writes their text,
in the language the citizen filed in. They carry the personal status link of
the receipt (`links.status_link_url`), never the access code.
"""

from __future__ import annotations

from django.utils import translation
from django.utils.formats import date_format
from django.utils.translation import gettext

from submissions.info_requests import KIND_ASKED, KIND_REMINDER
from submissions.links import status_link_url
from submissions.models import InfoRequest, Submission, SubmissionEvent


def info_request_mail_text(
    *, submission: Submission, event: SubmissionEvent
) -> tuple[str, str] | None:
    """Subject and body for a question or reminder event; None for any other event."""
    if event.kind == KIND_ASKED:
        info_request = InfoRequest.objects.filter(asked_event=event).first()
    elif event.kind == KIND_REMINDER:
        info_request = InfoRequest.objects.filter(reminder_event=event).first()
    else:
        return None
    if info_request is None:
        return None
    office = submission.office.name if submission.office else ""
    link = status_link_url(
        reference=submission.reference, access_secret_hash=submission.access_secret_hash
    )
    with translation.override(submission.language):
        values = {
            "reference": submission.reference,
            "deadline": date_format(info_request.deadline, "DATE_FORMAT"),
        }
        if event.kind == KIND_ASKED:
            # The status e-mails' subject, with the status "Rückfrage an Sie".
            subject = gettext("Ihr Antrag %(reference)s: %(status)s") % {
                **values,
                "status": str(Submission.Status.INFO_REQUESTED.label),
            }
            intro = (
                gettext("die Behörde hat eine Rückfrage zu Ihrem Antrag %(reference)s:") % values
            )
        else:
            subject = gettext("Erinnerung: Rückfrage zu Ihrem Antrag %(reference)s") % values
            intro = (
                gettext(
                    "wir erinnern Sie an die Rückfrage der Behörde zu Ihrem Antrag "
                    "%(reference)s. Die Frist endet am %(deadline)s."
                )
                % values
            )
        lines = [
            gettext("Guten Tag,"),
            "",
            intro,
            "",
            info_request.question,
            "",
            gettext(
                "Bitte antworten Sie bis zum %(deadline)s auf der Statusseite Ihres Antrags. "
                "Dort können Sie auch Dateien hochladen:"
            )
            % values,
            link,
            "",
            gettext(
                "Der Link öffnet nur die Statusseite dieses Antrags. Geben Sie ihn nicht weiter."
            ),
            "",
            office,
            "Thüringen-Portal",
        ]
    return subject, "\n".join(lines) + "\n"
