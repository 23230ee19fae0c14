"""Rückfrage test helpers: a filed application with its office, a clerk, a question."""

from __future__ import annotations

import datetime

from django.utils import timezone

from backoffice.info_requests import case_request_info
from submissions.models import InfoRequest, Submission
from submissions.pipeline import Step, pipeline_resolve_office
from submissions.services import submission_submit
from tests.backoffice.backoffice_support import make_staff
from tests.submissions.conftest import make_answers, make_draft

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
# A Windows program named like a PDF.
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 64


def filed(office_setup: dict, *, language: str = "de") -> tuple[Submission, str]:
    """An application filed and routed to the setup's office: (submission, access code)."""
    submission, secret = submission_submit(
        draft=make_draft(office_setup), answers=make_answers(), language=language
    )
    assert pipeline_resolve_office(submission_id=submission.pk) is Step.DONE
    return Submission.objects.get(pk=submission.pk), secret


def clerk_of(office, username: str = "rf_clerk", *, login: bool = False):
    return make_staff(username, "clerk", [office], login=login)


def in_days(days: int) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=days)


def ask(submission: Submission, actor, *, days: int = 14, question: str = "") -> InfoRequest:
    return case_request_info(
        submission=submission,
        actor=actor,
        question=question or "Bitte reichen Sie den Mietvertrag nach.",
        deadline=in_days(days),
    )
