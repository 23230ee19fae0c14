"""Regression: 'zurückgezogen' means two things; English showed 'retired' for a withdrawn case."""

from __future__ import annotations

import pytest
from django.utils import translation

from backoffice.notifications import _notification_text
from forms_catalog.models import FormVersion
from submissions.models import Submission, SubmissionEvent
from tests.factories import OfficeFactory, SubmissionFactory


def test_withdrawn_application_is_not_called_retired_in_english():
    with translation.override("en"):
        assert str(Submission.Status.WITHDRAWN.label) == "withdrawn"
        assert str(FormVersion.Status.RETIRED.label) == "retired"
    with translation.override("de"):
        assert str(Submission.Status.WITHDRAWN.label) == "zurückgezogen"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "subject_start", "status", "message_heading"),
    [
        ("en", "Your application", "withdrawn", "Message from the office:"),
        ("de", "Ihr Antrag", "zurückgezogen", "Nachricht der Behörde:"),
    ],
)
def test_status_email_speaks_the_citizens_language(
    language, subject_start, status, message_heading
):
    submission = SubmissionFactory(language=language, office=OfficeFactory(name="Amt X"))
    event = SubmissionEvent.objects.create(
        submission=submission, kind="status", to_status="withdrawn", comment="<b>Danke</b>"
    )
    with translation.override(
        "de" if language == "en" else "en"
    ):  # the request's language must not leak
        subject, body = _notification_text(submission=submission, event=event)
    assert subject == f"{subject_start} {submission.reference}: {status}"
    assert f": {status}." in body
    assert message_heading in body
    assert "<b>Danke</b>" in body  # plain-text mail: the comment is kept verbatim
    assert "Amt X" in body
