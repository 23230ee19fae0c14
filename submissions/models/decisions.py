"""Decision letters (Bescheide): the office's written decision, which the citizen downloads."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


def decision_letter_path(instance: DecisionLetter, filename: str) -> str:
    # Generated names only; the download gets a readable file name of its own.
    return f"bescheide/{instance.submission.reference}/{uuid.uuid4().hex}.pdf"


class DecisionLetter(models.Model):
    """One issued Bescheid of a submission, as a stored PDF/A.

    Never changed after issue except for being superseded: a correction issues
    a new letter and points the earlier one at it, so the history keeps both.
    The texts the letter was rendered from are kept so that a correction can
    start from them and nobody depends on a template that changed since.
    """

    class Outcome(models.TextChoices):
        APPROVED = "approved", _("bewilligt")
        REJECTED = "rejected", _("abgelehnt")

    submission = models.ForeignKey(
        "submissions.Submission", on_delete=models.CASCADE, related_name="decision_letters"
    )
    outcome = models.CharField(_("Entscheidung"), max_length=16, choices=Outcome.choices)
    file = models.FileField(upload_to=decision_letter_path, max_length=300)
    body = models.TextField(_("Entscheidungstext"))
    message = models.TextField(_("Begründung / Hinweise"), blank=True, default="")
    legal_remedy = models.TextField(_("Rechtsbehelfsbelehrung"))
    issued_at = models.DateTimeField(_("erstellt am"))
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("erstellt von"),
    )
    # Why this letter replaces an earlier one (a correction); blank for the first.
    correction_reason = models.TextField(_("Grund der Berichtigung"), blank=True, default="")
    superseded_by = models.OneToOneField(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="supersedes",
        verbose_name=_("ersetzt durch"),
    )
    superseded_at = models.DateTimeField(_("ersetzt am"), null=True, blank=True)

    class Meta:
        ordering = ["issued_at", "id"]
        verbose_name = _("Bescheid")
        verbose_name_plural = _("Bescheide")
        indexes = [models.Index(fields=["submission", "issued_at"], name="decision_letter_sub_idx")]

    def __str__(self) -> str:
        return f"{self.submission_id} Bescheid {self.pk}"
