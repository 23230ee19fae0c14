"""Thüringen's administrative structure, its offices and who is responsible for what.

Keys are the official ones (Destatis GV100AD): AGS for Gemeinden, the 5-digit
Kreis key, the 9-digit Gemeindeverband key. Every unit carries validity dates,
because Gemeinden merge every 1 January and submissions must keep pointing at
the unit they were filed for.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from municipalities.model_editions import CacheVersion, DataEdition
from municipalities.model_fees import LocalFeeParameter
from municipalities.names import gemeinde_display_name
from municipalities.validity import Validity, ValidityQuerySet


class Land(Validity):
    key = models.CharField(_("Schlüssel"), max_length=2, unique=True)
    name = models.CharField(_("Name"), max_length=100)

    class Meta:
        verbose_name = _("Land")
        verbose_name_plural = _("Länder")

    def __str__(self) -> str:
        return self.name


class Kreis(Validity):
    class Kind(models.TextChoices):
        KREISFREIE_STADT = "41", _("Kreisfreie Stadt")
        LANDKREIS = "44", _("Landkreis")

    key = models.CharField(_("Kreisschlüssel"), max_length=5, unique=True)
    name = models.CharField(_("Name"), max_length=100)
    seat = models.CharField(_("Sitz der Verwaltung"), max_length=100, blank=True, default="")
    kind = models.CharField(_("Art"), max_length=2, choices=Kind.choices)
    land = models.ForeignKey(Land, on_delete=models.PROTECT, related_name="kreise")

    class Meta:
        ordering = ["name"]
        verbose_name = _("Kreis")
        verbose_name_plural = _("Kreise")

    def __str__(self) -> str:
        return self.name


class Gemeindeverband(Validity):
    """The municipal administration of one or more Gemeinden.

    verbandsfrei: the Gemeinde administers itself; Verwaltungsgemeinschaft (VG):
    a joint administration of its members; erfüllende Gemeinde: a Gemeinde that
    also administers its beauftragende Gemeinden (§ 51 ThürKO).
    """

    class Kind(models.TextChoices):
        VERBANDSFREI = "50", _("verbandsfreie Gemeinde")
        VERWALTUNGSGEMEINSCHAFT = "54", _("Verwaltungsgemeinschaft")
        ERFUELLENDE_GEMEINDE = "58", _("erfüllende Gemeinde")

    # Land + Regierungsbezirk + Kreis + Verband: the Verband number alone is
    # unique only within its Kreis.
    key = models.CharField(_("Verbandsschlüssel"), max_length=9, unique=True)
    name = models.CharField(_("Name"), max_length=100)
    # For an erfüllende Gemeinde: the name of the serving Gemeinde.
    seat = models.CharField(_("Sitz der Verwaltung"), max_length=100, blank=True, default="")
    kind = models.CharField(_("Art"), max_length=2, choices=Kind.choices)
    kreis = models.ForeignKey(Kreis, on_delete=models.PROTECT, related_name="verbaende")
    # The Gemeinde whose administration serves the Verband: the erfüllende
    # Gemeinde itself, or the only Gemeinde of a verbandsfreie one (set by the
    # import; empty for a Verwaltungsgemeinschaft, which has its own office).
    serving_gemeinde = models.ForeignKey(
        "Gemeinde",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("verwaltende Gemeinde"),
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("Gemeindeverband")
        verbose_name_plural = _("Gemeindeverbände")

    def __str__(self) -> str:
        return self.name


class Gemeinde(Validity):
    class Kind(models.TextChoices):
        KREISFREIE_STADT = "61", _("kreisfreie Stadt")
        STADT = "63", _("Stadt")
        GEMEINDE = "64", _("Gemeinde")

    ags = models.CharField(_("Amtlicher Gemeindeschlüssel"), max_length=8, unique=True)
    ars = models.CharField(_("Amtlicher Regionalschlüssel"), max_length=12, db_index=True)
    name = models.CharField(_("Name"), max_length=100, db_index=True)
    kind = models.CharField(_("Art"), max_length=2, choices=Kind.choices)
    kreis = models.ForeignKey(Kreis, on_delete=models.PROTECT, related_name="gemeinden")
    verband = models.ForeignKey(Gemeindeverband, on_delete=models.PROTECT, related_name="gemeinden")
    population = models.PositiveIntegerField(_("Einwohner"), null=True, blank=True)
    area_ha = models.PositiveIntegerField(_("Fläche (ha)"), null=True, blank=True)
    town_hall_postcode = models.CharField(
        _("PLZ des Verwaltungssitzes"), max_length=5, blank=True, default=""
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("Gemeinde")
        verbose_name_plural = _("Gemeinden")

    def __str__(self) -> str:
        return self.name

    @property
    def display_name(self) -> str:
        """The name as people say it ("Stadt Erfurt"), for every page and PDF."""
        return gemeinde_display_name(name=self.name, kind=self.kind)


class Postcode(models.Model):
    """Postcode → Gemeinde. One postcode may lead to several Gemeinden."""

    code = models.CharField(_("Postleitzahl"), max_length=5, db_index=True)
    gemeinde = models.ForeignKey(Gemeinde, on_delete=models.CASCADE, related_name="postcodes")

    class Meta:
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(fields=["code", "gemeinde"], name="unique_postcode_gemeinde"),
        ]
        verbose_name = _("Postleitzahl")
        verbose_name_plural = _("Postleitzahlen")

    def __str__(self) -> str:
        return f"{self.code} {self.gemeinde.name}"


class Office(models.Model):
    """An office (Behörde) that receives and works submissions."""

    class Kind(models.TextChoices):
        MUNICIPAL_ADMINISTRATION = "municipal", _("Gemeindeverwaltung")
        KREIS = "kreis", _("Landratsamt / kreisfreie Stadt")
        OTHER = "other", _("sonstige Behörde")

    name = models.CharField(_("Name"), max_length=200)
    kind = models.CharField(_("Art"), max_length=16, choices=Kind.choices)
    # The administrative unit this office is the default office of (at most one).
    verband = models.OneToOneField(
        Gemeindeverband,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="office",
    )
    kreis = models.OneToOneField(
        Kreis, on_delete=models.PROTECT, null=True, blank=True, related_name="office"
    )
    street = models.CharField(_("Straße und Hausnummer"), max_length=200, blank=True, default="")
    postcode = models.CharField(_("PLZ"), max_length=5, blank=True, default="")
    city = models.CharField(_("Ort"), max_length=100, blank=True, default="")
    email = models.EmailField(_("E-Mail"), blank=True, default="")
    phone = models.CharField(_("Telefon"), max_length=50, blank=True, default="")
    website = models.URLField(_("Website"), blank=True, default="")
    opening_hours = models.TextField(_("Öffnungszeiten"), blank=True, default="")
    # Delivery channels besides the back-office inbox, which every office has.
    notification_email = models.EmailField(
        _("E-Mail für Eingangsbenachrichtigungen"), blank=True, default=""
    )
    webhook_url = models.URLField(_("Webhook-URL"), blank=True, default="")
    webhook_secret = models.CharField(
        _("Webhook-Schlüssel (HMAC)"), max_length=200, blank=True, default=""
    )
    # FIT-Connect: the office's destination (Zustellpunkt) and our sender's API
    # client in the FIT-Connect environment the office is registered in.
    fitconnect_destination_id = models.CharField(
        _("FIT-Connect: Zustellpunkt-ID (destinationId)"), max_length=36, blank=True, default=""
    )
    fitconnect_client_id = models.CharField(
        _("FIT-Connect: Client-ID des Senders"), max_length=200, blank=True, default=""
    )
    fitconnect_client_secret = models.CharField(
        _("FIT-Connect: Client-Secret des Senders"), max_length=500, blank=True, default=""
    )
    fitconnect_token_url = models.URLField(
        _("FIT-Connect: Token-URL (OAuth)"), max_length=300, blank=True, default=""
    )
    fitconnect_submission_api_url = models.URLField(
        _("FIT-Connect: Adresse der Submission API"),
        max_length=300,
        blank=True,
        default="",
        help_text=_("Ohne „/v1“, z. B. https://submission-api-testing.fit-connect.fitko.dev"),
    )
    is_active = models.BooleanField(_("aktiv"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("Behörde")
        verbose_name_plural = _("Behörden")

    def __str__(self) -> str:
        return self.name


class ResponsibilityRule(Validity):
    """Per service: which administrative level is responsible by default."""

    class Level(models.TextChoices):
        MUNICIPAL_ADMINISTRATION = (
            "municipal",
            _("Gemeindeverwaltung (VG / erfüllende Gemeinde / Gemeinde)"),
        )
        KREIS = "kreis", _("Landkreis / kreisfreie Stadt")

    service = models.ForeignKey(
        "forms_catalog.Service", on_delete=models.CASCADE, related_name="responsibility_rules"
    )
    level = models.CharField(_("Ebene"), max_length=16, choices=Level.choices)
    legal_basis = models.CharField(_("Rechtsgrundlage"), max_length=200, blank=True, default="")

    class Meta:
        ordering = ["service", "-valid_from"]
        verbose_name = _("Zuständigkeitsregel")
        verbose_name_plural = _("Zuständigkeitsregeln")

    def __str__(self) -> str:
        return f"{self.service} → {self.get_level_display()}"


class ResponsibilityException(Validity):
    """A Gemeinde whose responsible office for a service differs from the rule."""

    service = models.ForeignKey(
        "forms_catalog.Service", on_delete=models.CASCADE, related_name="responsibility_exceptions"
    )
    gemeinde = models.ForeignKey(
        Gemeinde, on_delete=models.CASCADE, related_name="responsibility_exceptions"
    )
    office = models.ForeignKey(Office, on_delete=models.PROTECT, related_name="exceptions")
    legal_basis = models.CharField(_("Rechtsgrundlage"), max_length=200, blank=True, default="")

    class Meta:
        ordering = ["service", "gemeinde__name"]
        verbose_name = _("Zuständigkeitsausnahme")
        verbose_name_plural = _("Zuständigkeitsausnahmen")

    def __str__(self) -> str:
        return f"{self.service}: {self.gemeinde} → {self.office}"


__all__ = [
    "CacheVersion",
    "DataEdition",
    "Gemeinde",
    "Gemeindeverband",
    "Kreis",
    "Land",
    "LocalFeeParameter",
    "Office",
    "Postcode",
    "ResponsibilityException",
    "ResponsibilityRule",
    "Validity",
    "ValidityQuerySet",
]


class GemeindeAlias(Validity):
    """Another name people use for a Gemeinde: one of its Ortsteile, or a former
    Gemeinde merged into it. Found by the municipality search, which names the
    reason ("Ortsteil von …", "früher: …")."""

    class Kind(models.TextChoices):
        ORTSTEIL = "ortsteil", _("Ortsteil")
        FORMER = "former", _("frühere Gemeinde")

    name = models.CharField(_("Name"), max_length=100)
    gemeinde = models.ForeignKey(
        Gemeinde, on_delete=models.CASCADE, related_name="aliases", verbose_name=_("Gemeinde")
    )
    kind = models.CharField(_("Art"), max_length=8, choices=Kind.choices, default=Kind.ORTSTEIL)

    objects = ValidityQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("Ortsteil oder früherer Name")
        verbose_name_plural = _("Ortsteile und frühere Namen")
        constraints = [
            models.UniqueConstraint(
                fields=["gemeinde", "name", "kind"], name="gemeindealias_unique_name"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.gemeinde.name})"
