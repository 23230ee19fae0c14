"""Drafts, filed submissions, their attachments, history and deliveries."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


def attachment_path(instance: Attachment, filename: str) -> str:
    # Generated names only: the citizen's file name is kept in the database,
    # never used as a storage path.
    return f"attachments/{instance.id.hex[:2]}/{instance.id.hex}"


def pdf_path(instance: Submission, filename: str) -> str:
    return f"pdfs/{instance.reference}/{uuid.uuid4().hex}-{filename}"


class Draft(models.Model):
    """A citizen's application in progress, saved on the server after every step."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # SHA-256 of the resume token; the token itself exists only in the resume link.
    token_hash = models.CharField(max_length=64, unique=True)
    service = models.ForeignKey("forms_catalog.Service", on_delete=models.CASCADE)
    # The version the citizen started on; they finish on it even if a newer one is published.
    form_version = models.ForeignKey("forms_catalog.FormVersion", on_delete=models.PROTECT)
    gemeinde = models.ForeignKey("municipalities.Gemeinde", on_delete=models.PROTECT)
    data = models.JSONField(default=dict, blank=True)
    current_step = models.CharField(max_length=100, blank=True, default="")
    language = models.CharField(max_length=8, default="de")
    email = models.EmailField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    expires_at = models.DateTimeField(db_index=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    # Funnel statistics (no personal data; kept when the draft is purged).
    # Steps are counted by their position in the version's definition; the
    # position after the last step is the check page. `steps_reached` has bit i
    # set once step i was shown (positions above 62 are not recorded),
    # `furthest_step` is the highest position shown, `field_errors` counts per
    # field key ("field" or "group.field") the step posts that refused it (at most
    # about 2 KB, so that it fits in the index entry of draft_funnel_errors_idx).
    steps_reached = models.BigIntegerField(default=0)
    furthest_step = models.PositiveSmallIntegerField(null=True, blank=True)
    field_errors = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("Entwurf")
        verbose_name_plural = _("Entwürfe")
        indexes = [
            # The funnel statistics read only these columns, per service and period:
            # an index-only scan instead of reading the rows with their answers.
            models.Index(
                fields=["service", "created_at"],
                include=[
                    "form_version",
                    "gemeinde",
                    "furthest_step",
                    "steps_reached",
                    "submitted_at",
                    "updated_at",
                    "expires_at",
                ],
                name="draft_funnel_idx",
            ),
            # The field failures of the drafts that have any (a minority), read the same way.
            models.Index(
                fields=["service", "created_at"],
                include=["form_version", "gemeinde", "field_errors"],
                condition=~models.Q(field_errors={}),
                name="draft_funnel_errors_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"Draft {self.id} ({self.service_id})"


class Submission(models.Model):
    """A filed application. Created in one transaction with its first history event."""

    class Status(models.TextChoices):
        RECEIVED = "received", _("eingegangen")
        FORWARDED = "forwarded", _("an die Behörde übermittelt")
        IN_PROGRESS = "in_progress", _("in Bearbeitung")
        INFO_REQUESTED = "info_requested", _("Rückfrage an Sie")
        APPROVED = "approved", _("bewilligt")
        REJECTED = "rejected", _("abgelehnt")
        WITHDRAWN = "withdrawn", pgettext_lazy("application status", "zurückgezogen")

    reference = models.CharField(_("Aktenzeichen"), max_length=20, unique=True)
    # Hash of the secret that, with the reference, opens the citizen's status page.
    access_secret_hash = models.CharField(max_length=128)
    service = models.ForeignKey(
        "forms_catalog.Service", on_delete=models.PROTECT, verbose_name=_("Leistung")
    )
    form_version = models.ForeignKey(
        "forms_catalog.FormVersion", on_delete=models.PROTECT, verbose_name=_("Formularversion")
    )
    gemeinde = models.ForeignKey(
        "municipalities.Gemeinde", on_delete=models.PROTECT, verbose_name=_("Gemeinde")
    )
    office = models.ForeignKey(
        "municipalities.Office",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="submissions",
        verbose_name=_("zuständige Behörde"),
    )
    answers = models.JSONField(_("Angaben"), default=dict)
    language = models.CharField(max_length=8, default="de")
    applicant_name = models.CharField(_("Antragsteller/in"), max_length=200, blank=True, default="")
    applicant_email = models.EmailField(_("E-Mail"), blank=True, default="")
    fee_amount = models.DecimalField(
        _("Gebühr"), max_digits=10, decimal_places=2, null=True, blank=True
    )
    status = models.CharField(
        _("Status"), max_length=20, choices=Status.choices, default=Status.RECEIVED, db_index=True
    )
    submitted_at = models.DateTimeField(_("eingereicht am"), db_index=True)
    decided_at = models.DateTimeField(_("entschieden am"), null=True, blank=True)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_submissions",
        verbose_name=_("zugewiesen an"),
    )
    # Pipeline progress: each step records its completion, so a re-run skips it.
    office_resolved_at = models.DateTimeField(null=True, blank=True)
    pdfs_rendered_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    citizen_notified_at = models.DateTimeField(null=True, blank=True)
    pipeline_error = models.TextField(blank=True, default="")
    # Last time a pipeline step made progress or was (re-)enqueued: the sweeper
    # re-enqueues submissions whose pipeline has been quiet for too long.
    pipeline_progress_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # Recovery is driven by these (submissions/recovery.py): when the task of
    # the next step was put on the queue, and which task attempt claimed the
    # step until when (its time limit plus a margin). A claim past its expiry,
    # or a task never claimed, means the task was lost.
    enqueued_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(max_length=255, blank=True, default="")
    claim_expires_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # Set when the pipeline stopped on an error that needs a person (see pipeline_error);
    # the sweeper leaves such submissions alone until someone retries them.
    pipeline_failed_at = models.DateTimeField(null=True, blank=True)
    office_pdf = models.FileField(upload_to=pdf_path, blank=True, max_length=300)
    receipt_pdf = models.FileField(upload_to=pdf_path, blank=True, max_length=300)
    # Set when retention removed the personal data; the row stays as an anonymous record.
    purged_at = models.DateTimeField(null=True, blank=True)
    # The office took the case over into its own case software (Fachverfahren):
    # when, and the case's reference there (set by backoffice.workbench).
    handed_over_at = models.DateTimeField(_("an Fachverfahren übergeben am"), null=True, blank=True)
    handed_over_reference = models.CharField(
        _("Aktenzeichen im Fachverfahren"), max_length=100, blank=True, default=""
    )
    # Wiedervorlage: the day the case is due again on its office's start page.
    resubmission_on = models.DateField(_("Wiedervorlage am"), null=True, blank=True)
    resubmission_note = models.CharField(
        _("Hinweis zur Wiedervorlage"), max_length=200, blank=True, default=""
    )

    class Meta:
        ordering = ["-submitted_at"]
        verbose_name = _("Antrag")
        verbose_name_plural = _("Anträge")
        indexes = [
            # The start page's "Wiedervorlage fällig" of an office: few rows carry a date.
            models.Index(
                fields=["office", "resubmission_on"],
                condition=models.Q(resubmission_on__isnull=False),
                name="sub_office_resubmission_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.reference


class SubmissionEvent(models.Model):
    """One entry in a submission's history (status changes, pipeline milestones)."""

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=40)
    from_status = models.CharField(max_length=20, blank=True, default="")
    to_status = models.CharField(max_length=20, blank=True, default="")
    comment = models.TextField(blank=True, default="")
    visible_to_citizen = models.BooleanField(default=False)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("Verlaufseintrag")
        verbose_name_plural = _("Verlauf")

    def __str__(self) -> str:
        return f"{self.submission_id} {self.kind}"


class Attachment(models.Model):
    """An uploaded file, first of a draft, then of the submission made from it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    draft = models.ForeignKey(
        Draft, on_delete=models.SET_NULL, null=True, blank=True, related_name="attachments"
    )
    submission = models.ForeignKey(
        Submission, on_delete=models.CASCADE, null=True, blank=True, related_name="attachments"
    )
    field_path = models.CharField(max_length=200)
    # Set for a file the citizen uploaded with the answer to a Rückfrage (field_path
    # is then INFO_REQUEST_FIELD_PATH); such a file is not part of the form's answers.
    info_request = models.ForeignKey(
        "submissions.InfoRequest",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="files",
    )
    file = models.FileField(upload_to=attachment_path, max_length=300)
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]
        verbose_name = _("Anhang")
        verbose_name_plural = _("Anhänge")

    def __str__(self) -> str:
        return self.original_name


class Delivery(models.Model):
    """Delivery of a submission to its office over one channel."""

    class Channel(models.TextChoices):
        INBOX = "inbox", _("Posteingang im Fachverfahren (Back Office)")
        EMAIL = "email", _("E-Mail-Benachrichtigung")
        WEBHOOK = "webhook", _("Webhook")
        FITCONNECT = "fitconnect", _("FIT-Connect")

    class Status(models.TextChoices):
        PENDING = "pending", _("ausstehend")
        DELIVERED = "delivered", _("zugestellt")
        FAILED = "failed", _("fehlgeschlagen")

    class RemoteStatus(models.TextChoices):
        SUBMITTED = "submitted", _("eingereicht, Rückmeldung ausstehend")
        ACCEPTED = "accepted", _("angenommen")
        REJECTED = "rejected", _("zurückgewiesen")

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.CharField(max_length=16, choices=Channel.choices)
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # When a task for the next attempt was last put on the queue; the sweeper
    # only re-enqueues a due attempt whose task has gone missing.
    enqueued_at = models.DateTimeField(null=True, blank=True)
    # The task attempt running the current attempt and until when its claim
    # holds (its time limit plus a margin): see submissions/recovery.py.
    claimed_at = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(max_length=255, blank=True, default="")
    claim_expires_at = models.DateTimeField(null=True, blank=True)
    # Start of the retry window (creation, or the last "retry now").
    window_started_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    # Channels that create a record on the other side (FIT-Connect: the
    # submission and its case) keep its ids here, committed before anything
    # else is sent, so a retried attempt continues that record instead of
    # creating a second one; the other side's verdict follows later.
    remote_id = models.CharField(_("Kennung beim Empfänger"), max_length=64, blank=True, default="")
    remote_case_id = models.CharField(
        _("Vorgangskennung beim Empfänger"), max_length=64, blank=True, default=""
    )
    remote_status = models.CharField(
        _("Rückmeldung des Empfängers"),
        max_length=16,
        choices=RemoteStatus.choices,
        blank=True,
        default="",
        db_index=True,
    )
    remote_status_at = models.DateTimeField(null=True, blank=True)
    remote_problems = models.TextField(_("Gründe der Zurückweisung"), blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["submission", "channel"], name="one_delivery_per_channel"
            ),
        ]
        verbose_name = _("Zustellung")
        verbose_name_plural = _("Zustellungen")

    def __str__(self) -> str:
        return f"{self.submission_id} {self.channel} {self.status}"
