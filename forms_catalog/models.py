"""Services (Leistungen) and the versioned form definitions that every municipality renders."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


def minimum_retention_days() -> int:
    """The platform's floor for `Service.retention_days` (PORTAL_MIN_RETENTION_DAYS)."""
    return settings.PORTAL_MIN_RETENTION_DAYS


class Service(models.Model):
    """A public service citizens can apply for, identical in every municipality."""

    slug = models.SlugField(_("Kennung"), max_length=60, unique=True)
    # Leistungsschlüssel (formerly LeiKa). Left empty where not verified: never invented.
    leistungsschluessel = models.CharField(
        _("Leistungsschlüssel"), max_length=14, blank=True, default=""
    )
    name_de = models.CharField(_("Name (deutsch)"), max_length=200)
    name_en = models.CharField(_("Name (englisch)"), max_length=200)
    summary_de = models.TextField(_("Kurzbeschreibung (deutsch)"), blank=True, default="")
    summary_en = models.TextField(_("Kurzbeschreibung (englisch)"), blank=True, default="")
    legal_basis = models.TextField(_("Rechtsgrundlage"), blank=True, default="")
    requirements_de = models.TextField(_("Was Sie brauchen (deutsch)"), blank=True, default="")
    requirements_en = models.TextField(_("Was Sie brauchen (englisch)"), blank=True, default="")
    fee_note_de = models.TextField(_("Gebühren (deutsch)"), blank=True, default="")
    fee_note_en = models.TextField(_("Gebühren (englisch)"), blank=True, default="")
    processing_time_de = models.CharField(
        _("Bearbeitungsdauer (deutsch)"), max_length=200, blank=True, default=""
    )
    processing_time_en = models.CharField(
        _("Bearbeitungsdauer (englisch)"), max_length=200, blank=True, default=""
    )
    # Days after the final decision until personal data is purged. Never below
    # the platform minimum: the purge itself also keeps at least that long.
    retention_days = models.PositiveIntegerField(
        _("Aufbewahrungsfrist (Tage)"),
        default=365,
        validators=[
            MinValueValidator(
                minimum_retention_days,
                message=_(
                    "Die Aufbewahrungsfrist muss mindestens %(limit_value)s Tage betragen "
                    "(Mindestfrist der Plattform)."
                ),
            )
        ],
        help_text=_("Tage nach der Entscheidung; nur die Plattform-Administration ändert sie."),
    )
    sort_order = models.PositiveIntegerField(_("Reihenfolge"), default=100)
    is_active = models.BooleanField(_("aktiv"), default=True)

    class Meta:
        ordering = ["sort_order", "name_de"]
        verbose_name = _("Leistung")
        verbose_name_plural = _("Leistungen")

    def __str__(self) -> str:
        return self.name_de

    def name(self, language: str) -> str:
        return self.name_en if language == "en" else self.name_de


# Whoever holds it edits, reviews, approves and publishes form versions (the
# Kompetenzzentrum; backoffice.roles grants it). The four-eyes rule is checked
# in the services on top of it: nobody approves a version they worked on.
EDITOR_PERMISSION = "forms_catalog.publish_formversion"


class FormVersion(models.Model):
    """One version of a service's form. Immutable once published.

    Life cycle: draft -> in_review -> approved (-> scheduled) -> published ->
    retired; in_review, approved and scheduled can go back to draft with a
    reason. Only a draft's definition can change.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", _("Entwurf")
        IN_REVIEW = "in_review", _("zur Prüfung")
        APPROVED = "approved", _("freigegeben")
        SCHEDULED = "scheduled", _("Veröffentlichung geplant")
        PUBLISHED = "published", _("veröffentlicht")
        RETIRED = "retired", pgettext_lazy("form version status", "zurückgezogen")

    # Statuses of a version not yet published: at most one per service.
    OPEN_STATUSES = ("draft", "in_review", "approved", "scheduled")

    service = models.ForeignKey(
        Service, on_delete=models.PROTECT, related_name="versions", verbose_name=_("Leistung")
    )
    number = models.PositiveIntegerField(_("Version"))
    status = models.CharField(
        _("Status"), max_length=16, choices=Status.choices, default=Status.DRAFT
    )
    definition = models.JSONField(_("Definition"))
    # SHA-256 of the canonical JSON of the definition: tells whether a file changed.
    checksum = models.CharField(_("Prüfsumme"), max_length=64, blank=True, default="")
    change_note = models.TextField(_("Änderungshinweis"), blank=True, default="")
    created_at = models.DateTimeField(_("angelegt"), auto_now_add=True)
    published_at = models.DateTimeField(_("veröffentlicht am"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("veröffentlicht von"),
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("angelegt von"),
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("freigegeben von"),
    )
    approved_at = models.DateTimeField(_("freigegeben am"), null=True, blank=True)
    # When a scheduled version goes live (the beat job publishes it).
    publish_at = models.DateTimeField(_("Veröffentlichung geplant für"), null=True, blank=True)

    class Meta:
        ordering = ["service", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["service", "number"], name="unique_version_number"),
        ]
        verbose_name = _("Formularversion")
        verbose_name_plural = _("Formularversionen")
        permissions = [
            (
                "publish_formversion",
                _(
                    "Formularversionen bearbeiten, prüfen, freigeben, veröffentlichen "
                    "und zurückziehen"
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.service.name_de} v{self.number} ({self.get_status_display()})"


class FormVersionEvent(models.Model):
    """One step in a version's history: who did what, when, and why. Append-only."""

    class Action(models.TextChoices):
        CREATED = "created", _("angelegt")
        EDITED = "edited", _("bearbeitet")
        SUBMITTED = "submitted", _("zur Prüfung gegeben")
        CHANGES_REQUESTED = "changes_requested", _("zur Überarbeitung zurückgegeben")
        APPROVED = "approved", _("freigegeben")
        SCHEDULED = "scheduled", _("Veröffentlichung geplant")
        PUBLISHED = "published", _("veröffentlicht")
        RETIRED = "retired", pgettext_lazy("form version event", "zurückgezogen")

    version = models.ForeignKey(
        FormVersion, on_delete=models.CASCADE, related_name="events", verbose_name=_("Version")
    )
    action = models.CharField(_("Aktion"), max_length=24, choices=Action.choices)
    # None: the system (catalogue files, the scheduled publication).
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("durch"),
    )
    note = models.TextField(_("Notiz"), blank=True, default="")
    # The definition this step was about: shows what exactly was approved.
    checksum = models.CharField(_("Prüfsumme"), max_length=64, blank=True, default="")
    created_at = models.DateTimeField(_("am"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["version", "created_at", "pk"]
        verbose_name = _("Ereignis einer Formularversion")
        verbose_name_plural = _("Ereignisse der Formularversionen")

    def __str__(self) -> str:
        return f"v{self.version.number}: {self.get_action_display()}"


class Block(models.Model):
    """A reusable field group (Baustein) of the form library: person, address, bank account.

    Forms use a block by reference: a group with `"block": {"slug", "version"}`
    whose fields are the fields of that (immutable) block version, their ids
    prefixed with the group's id. See forms_catalog/blocks.py.
    """

    slug = models.SlugField(_("Kennung"), max_length=60, unique=True)
    name_de = models.CharField(_("Name (deutsch)"), max_length=200)
    name_en = models.CharField(_("Name (englisch)"), max_length=200)
    description_de = models.TextField(_("Beschreibung"), blank=True, default="")

    class Meta:
        ordering = ["name_de"]
        verbose_name = _("Baustein")
        verbose_name_plural = _("Bausteine")

    def __str__(self) -> str:
        return self.name_de


class BlockVersion(models.Model):
    """One version of a block. Immutable once published; forms reference it by number.

    Life cycle: draft -> in review -> published (approved by a second editor)
    -> retired (when the next version is published); in review can go back to
    draft. `content` is {"label": {de, en}, "help"?: {de, en}, "fields": [...]}
    with fields in the form definition's field format (no groups).
    """

    class Status(models.TextChoices):
        DRAFT = "draft", _("Entwurf")
        IN_REVIEW = "in_review", _("zur Prüfung")
        PUBLISHED = "published", _("veröffentlicht")
        RETIRED = "retired", pgettext_lazy("block version status", "abgelöst")

    block = models.ForeignKey(
        Block, on_delete=models.PROTECT, related_name="versions", verbose_name=_("Baustein")
    )
    number = models.PositiveIntegerField(_("Version"))
    status = models.CharField(
        _("Status"), max_length=16, choices=Status.choices, default=Status.DRAFT
    )
    content = models.JSONField(_("Inhalt"))
    checksum = models.CharField(_("Prüfsumme"), max_length=64, blank=True, default="")
    change_note = models.TextField(_("Änderungshinweis"), blank=True, default="")
    # Users who created, edited or submitted this version: none of them may approve it.
    contributor_ids = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(_("angelegt"), auto_now_add=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("freigegeben von"),
    )
    published_at = models.DateTimeField(_("veröffentlicht am"), null=True, blank=True)

    class Meta:
        ordering = ["block", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["block", "number"], name="unique_block_version_number"),
        ]
        verbose_name = _("Bausteinversion")
        verbose_name_plural = _("Bausteinversionen")

    def __str__(self) -> str:
        return f"{self.block.name_de} v{self.number} ({self.get_status_display()})"
