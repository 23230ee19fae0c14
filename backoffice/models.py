"""Back office: which staff work for which office, internal case notes, the audit trail.

These models moved here from `submissions` and keep their tables (`db_table`),
so no row was copied when they moved (migration backoffice 0001).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.translation import gettext_lazy as _

from municipalities.models import Office


class StaffMembership(models.Model):
    """Binds a staff account to an office in a role. A clerk may serve several offices.

    Kompetenzzentrum and platform roles are statewide: their membership has no office.
    """

    class Role(models.TextChoices):
        CLERK = "clerk", _("Sachbearbeitung")
        LEAD = "lead", _("Amtsleitung")
        KOMPETENZZENTRUM = "kompetenzzentrum", _("Kompetenzzentrum")
        PLATFORM = "platform", _("Plattform-Administration")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="staff_memberships",
        verbose_name=_("Benutzer/in"),
    )
    office = models.ForeignKey(
        "municipalities.Office",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="staff_memberships",
        verbose_name=_("Behörde"),
    )
    role = models.CharField(_("Rolle"), max_length=20, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "submissions_staffmembership"
        ordering = ["user__username", "office__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "office", "role"], name="unique_staff_membership"
            ),
        ]
        # Capabilities of the back office that are not tied to one model's CRUD.
        permissions = [
            ("work_cases", _("Kann Anträge der eigenen Behörde bearbeiten")),
            ("assign_cases", _("Kann Anträge Sachbearbeiter/innen zuweisen")),
            ("export_cases", _("Kann Anträge als CSV exportieren")),
            ("view_office_statistics", _("Kann die Übersicht der eigenen Behörde sehen")),
            ("view_statewide_statistics", _("Kann die landesweite Statistik sehen")),
        ]
        verbose_name = _("Behördenzugehörigkeit")
        verbose_name_plural = _("Behördenzugehörigkeiten")

    def __str__(self) -> str:
        return f"{self.user} – {self.get_role_display()} – {self.office or '-'}"


class StaffProfile(models.Model):
    """Per-account security state of a staff member that Django's user model has no field for.

    An account without a profile has an ordinary password (e.g. created by
    `createsuperuser` before profiles existed).
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="staff_profile",
        verbose_name=_("Benutzer/in"),
    )
    # Set when `create_staff_user` issues a one-time password, cleared when its
    # owner replaces it. While set, the password opens nothing but the password
    # change page, and only until PORTAL_INITIAL_PASSWORD_HOURS have passed.
    initial_password_issued_at = models.DateTimeField(
        _("Erstpasswort ausgegeben am"), null=True, blank=True
    )

    class Meta:
        db_table = "submissions_staffprofile"
        verbose_name = _("Sicherheitsstatus des Kontos")
        verbose_name_plural = _("Sicherheitsstatus der Konten")

    def __str__(self) -> str:
        return f"profile of {self.user_id}"


class CaseNote(models.Model):
    """An internal note on a case, never shown to the citizen."""

    submission = models.ForeignKey(
        "submissions.Submission", on_delete=models.CASCADE, related_name="notes"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    text = models.TextField(_("Notiz"))
    created_at = models.DateTimeField(auto_now_add=True)
    # Retention blanks the text (it may contain personal data) but keeps that a note existed.
    purged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "submissions_casenote"
        ordering = ["created_at", "id"]
        verbose_name = _("interne Notiz")
        verbose_name_plural = _("interne Notizen")

    def __str__(self) -> str:
        return f"{self.submission_id} note {self.pk}"


class AuditEntry(models.Model):
    """Who did or saw what, when, on which case. Written only by services, never edited."""

    class Action(models.TextChoices):
        VIEW_LIST = "view_list", _("Liste angesehen")
        VIEW_CASE = "view_case", _("Antrag angesehen")
        VIEW_HISTORY = "view_history", _("Änderungsprotokoll angesehen")
        TRANSITION = "transition", _("Status geändert")
        ASSIGN = "assign", _("zugewiesen")
        ADD_NOTE = "add_note", _("Notiz hinzugefügt")
        EXPORT = "export", _("exportiert")
        DOWNLOAD_PDF = "download_pdf", _("PDF heruntergeladen")
        DOWNLOAD_ATTACHMENT = "download_attachment", _("Anhang heruntergeladen")
        VIEW_STATISTICS = "view_statistics", _("Statistik angesehen")
        PURGE = "purge", _("personenbezogene Daten gelöscht")
        CHANGE_RETENTION = "change_retention", _("Aufbewahrungsfrist geändert")
        UNLOCK_ACCOUNT = "unlock_account", _("Kontosperre aufgehoben")
        SEARCH = "search", _("gesucht")
        REFUSED = "refused", _("Zugriff verweigert (andere Behörde)")
        LOGIN = "login", _("angemeldet")
        LOGIN_FAILED = "login_failed", _("Anmeldung fehlgeschlagen")
        LOGOUT = "logout", _("abgemeldet")
        DOWNLOAD_ZIP = "download_zip", _("alle Unterlagen als ZIP heruntergeladen")
        HAND_OVER_EXPORT = "hand_over_export", _("für Fachverfahren exportiert")
        HAND_OVER = "hand_over", _("als an Fachverfahren übergeben markiert")
        RESUBMISSION = "resubmission", _("Wiedervorlage geändert")
        ISSUE_DECISION_LETTER = "issue_decision_letter", _("Bescheid erstellt")
        DOWNLOAD_DECISION_LETTER = "download_decision_letter", _("Bescheid heruntergeladen")
        REOPEN = "reopen", _("Entscheidung wieder aufgenommen")
        CORRECT_DECISION = "correct_decision", _("Bescheid berichtigt")

    created_at = models.DateTimeField(_("Zeitpunkt"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("Benutzer/in"),
    )
    # Kept as text so the trail stays readable after an account is deleted.
    actor_username = models.CharField(_("Benutzername"), max_length=150, blank=True, default="")
    action = models.CharField(_("Aktion"), max_length=30, choices=Action.choices)
    submission = models.ForeignKey(
        "submissions.Submission",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="audit_entries",
        db_constraint=False,
        verbose_name=_("Antrag"),
    )
    reference = models.CharField(_("Aktenzeichen"), max_length=20, blank=True, default="")
    office = models.ForeignKey(
        "municipalities.Office",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("Behörde"),
    )
    ip_address = models.GenericIPAddressField(_("IP-Adresse"), null=True, blank=True)
    detail = models.TextField(_("Details"), blank=True, default="")

    class Meta:
        db_table = "submissions_auditentry"
        ordering = ["-created_at", "-id"]
        # Entries are created only by services; nobody gets add/change/delete.
        default_permissions = ("view",)
        indexes = [
            models.Index(fields=["submission", "created_at"], name="audit_submission_idx"),
            models.Index(fields=["office", "created_at"], name="audit_office_idx"),
        ]
        verbose_name = _("Protokolleintrag")
        verbose_name_plural = _("Zugriffsprotokoll")

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_username} {self.action}"


class StatusNotification(models.Model):
    """The status e-mail to the citizen; records sending so a re-run skips it."""

    event = models.OneToOneField(
        "submissions.SubmissionEvent", on_delete=models.CASCADE, related_name="notification"
    )
    recipient = models.EmailField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")

    class Meta:
        db_table = "submissions_statusnotification"
        verbose_name = _("Statusbenachrichtigung")
        verbose_name_plural = _("Statusbenachrichtigungen")

    def __str__(self) -> str:
        return f"notification for event {self.event_id}"


class OfficeContact(Office):
    """An office seen only through its public contact data, which its leads keep current.

    A proxy of `municipalities.Office`: its own admin page and permissions let an
    office lead edit street, phone, e-mail, web and opening hours of their own
    office without any right on routing or delivery settings (`admin.offices`).
    """

    class Meta:
        proxy = True
        verbose_name = _("Kontaktdaten der Behörde")
        verbose_name_plural = _("Kontaktdaten der Behörden")


class MessageTemplate(models.Model):
    """A Rückfrage text an office lead keeps for one service of their office.

    The body may name placeholders (`message_templates.PLACEHOLDERS`, e.g.
    {aktenzeichen}); the clerk's question is prefilled from it and stays editable.
    """

    office = models.ForeignKey(
        "municipalities.Office",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("Behörde"),
    )
    service = models.ForeignKey(
        "forms_catalog.Service",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("Leistung"),
    )
    title = models.CharField(_("Titel"), max_length=200)
    body = models.TextField(_("Text der Vorlage"))
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["office__name", "service__name_de", "title"]
        constraints = [
            models.UniqueConstraint(
                fields=["office", "service", "title"], name="unique_message_template_title"
            ),
        ]
        verbose_name = _("Textvorlage für Rückfragen")
        verbose_name_plural = _("Textvorlagen für Rückfragen")

    def __str__(self) -> str:
        return self.title


class DecisionTemplate(models.Model):
    """The text of a Bescheid for one service and outcome.

    Without an office it is the statewide default; with one it is that office's
    own version, which its lead maintains and which wins for its cases. The
    body may use the placeholders of `backoffice.decisions.PLACEHOLDERS`; an
    empty Rechtsbehelfsbelehrung means the built-in default.
    """

    class Outcome(models.TextChoices):
        APPROVED = "approved", _("bewilligt")
        REJECTED = "rejected", _("abgelehnt")

    service = models.ForeignKey(
        "forms_catalog.Service",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("Leistung"),
    )
    outcome = models.CharField(_("Entscheidung"), max_length=16, choices=Outcome.choices)
    office = models.ForeignKey(
        "municipalities.Office",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("Behörde"),
        help_text=_("Leer lassen für die landesweite Vorlage."),
    )
    body = models.TextField(
        _("Entscheidungstext"),
        help_text=_(
            "Platzhalter: {aktenzeichen}, {leistung}, {name}, {datum} (Datum des Bescheids), "
            "{eingang} (Eingang des Antrags)."
        ),
    )
    legal_remedy = models.TextField(
        _("Rechtsbehelfsbelehrung"),
        blank=True,
        default="",
        help_text=_(
            "Leer lassen für die Standardbelehrung (Widerspruch innerhalb eines Monats bei "
            "der Behörde). Platzhalter: {behoerde}, {anschrift}."
        ),
    )
    updated_at = models.DateTimeField(_("geändert am"), auto_now=True)

    class Meta:
        ordering = ["service__name_de", "outcome", "office__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["service", "outcome", "office"], name="unique_office_decision_template"
            ),
            models.UniqueConstraint(
                fields=["service", "outcome"],
                condition=models.Q(office__isnull=True),
                name="unique_statewide_decision_template",
            ),
        ]
        verbose_name = _("Bescheidvorlage")
        verbose_name_plural = _("Bescheidvorlagen")

    def __str__(self) -> str:
        return f"{self.service_id} {self.outcome} {self.office_id or '-'}"


class FunnelRollup(models.Model):
    """Funnel figures of the drafts started on one day (or in one month) for one form version
    and one Kreis (0: all of Thüringen), computed by SQL from the draft rows.

    Only for days whose drafts can no longer change (submitted or expired, and
    before today): see backoffice/funnel_rollup.py. The funnel page adds the
    open days live from the draft rows, so the figures are the same as a
    computation over the raw rows. Nothing personal: counts per step position,
    time to complete per whole minute, refused posts per field key.
    """

    class Period(models.TextChoices):
        DAY = "d", _("Tag")
        MONTH = "m", _("Monat")

    period = models.CharField(max_length=1, choices=Period.choices)
    start = models.DateField()
    form_version = models.ForeignKey(
        "forms_catalog.FormVersion", on_delete=models.CASCADE, related_name="+"
    )
    service = models.ForeignKey("forms_catalog.Service", on_delete=models.CASCADE, related_name="+")
    # The Kreis of the drafts' Gemeinde; 0 is the row for all of Thüringen.
    kreis = models.IntegerField()
    started = models.IntegerField()
    submitted = models.IntegerField()
    abandoned = models.IntegerField()
    # Index i: drafts that reached / were abandoned at step position i.
    reached = ArrayField(models.IntegerField(), default=list)
    abandoned_at = ArrayField(models.IntegerField(), default=list)
    # Time from start to submission in whole minutes, and how many drafts took it.
    minutes = ArrayField(models.IntegerField(), default=list)
    minute_counts = ArrayField(models.IntegerField(), default=list)
    # Per field key: refused posts, and drafts with at least one.
    error_keys = ArrayField(models.TextField(), default=list)
    error_failures = ArrayField(models.IntegerField(), default=list)
    error_drafts = ArrayField(models.IntegerField(), default=list)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["period", "start", "form_version", "kreis"], name="unique_funnel_rollup"
            )
        ]
        indexes = [
            models.Index(fields=["kreis", "period", "start"], name="funnel_rollup_range_idx")
        ]

    def __str__(self) -> str:
        return f"{self.period} {self.start} v{self.form_version_id} k{self.kreis}"


class FunnelRollupState(models.Model):
    """The one row that says up to which day the roll-up is complete (exclusive)."""

    closed_until = models.DateField(null=True, blank=True)
    refreshed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"funnel roll-up closed until {self.closed_until}"
