"""The back office's question to the citizen (Rückfrage) and the citizen's answer.

Here rather than in `backoffice` because both sides need it: the clerk asks
(backoffice.info_requests), the citizen answers on the status page
(submissions.info_requests, called by the citizen app). The citizen's files
are ordinary `Attachment` rows of the submission that name their request.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class InfoRequest(models.Model):
    """One question to the citizen with its deadline (Frist), and their answer."""

    submission = models.ForeignKey(
        "submissions.Submission",
        on_delete=models.CASCADE,
        related_name="info_requests",
        verbose_name=_("Antrag"),
    )
    question = models.TextField(_("Rückfrage"))
    deadline = models.DateField(_("Frist"))
    asked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("gestellt von"),
    )
    asked_at = models.DateTimeField(_("gestellt am"), default=timezone.now)
    # The history entry of the question and of the reminder: their e-mails
    # (backoffice.notifications) find the request, its deadline and text here.
    asked_event = models.OneToOneField(
        "submissions.SubmissionEvent",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="asked_info_request",
    )
    reminder_event = models.OneToOneField(
        "submissions.SubmissionEvent",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="reminded_info_request",
    )
    answer = models.TextField(_("Antwort"), blank=True, default="")
    answered_at = models.DateTimeField(_("beantwortet am"), null=True, blank=True)
    # Set when a newer question replaced this unanswered one.
    cancelled_at = models.DateTimeField(_("ersetzt am"), null=True, blank=True)
    reminder_sent_at = models.DateTimeField(_("Erinnerung gesendet am"), null=True, blank=True)
    deadline_passed_at = models.DateTimeField(_("Frist abgelaufen am"), null=True, blank=True)
    # The e-mail to the assignee (or the office) about the answer was accepted by the server.
    answer_notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["asked_at", "id"]
        verbose_name = _("Rückfrage")
        verbose_name_plural = _("Rückfragen")
        constraints = [
            # One open question per case: the citizen answers exactly one.
            models.UniqueConstraint(
                fields=["submission"],
                condition=models.Q(answered_at__isnull=True, cancelled_at__isnull=True),
                name="one_open_info_request",
            ),
        ]
        indexes = [
            # The deadline job reads only the open ones, by deadline.
            models.Index(
                fields=["deadline"],
                condition=models.Q(answered_at__isnull=True, cancelled_at__isnull=True),
                name="info_request_open_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.submission_id} info request {self.pk}"

    @property
    def is_open(self) -> bool:
        return self.answered_at is None and self.cancelled_at is None

    @property
    def answered_late(self) -> bool:
        """Answered after the deadline day (local time) ended: accepted, but marked."""
        if self.answered_at is None:
            return False
        return timezone.localdate(self.answered_at) > self.deadline

    def deadline_passed_on(self, today: datetime.date) -> bool:
        return self.is_open and today > self.deadline
