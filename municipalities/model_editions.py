"""Which editions of the official data files have been imported."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class DataEdition(models.Model):
    """One imported edition of an official file (GV100AD, postcode list).

    The newest GV100AD edition per Land is the reference for retiring keys:
    an older edition is refused, the same one is a no-op.
    """

    class Source(models.TextChoices):
        GV100AD = "gv100ad", _("Gemeindeverzeichnis GV100AD (Destatis)")
        POSTCODES = "postcodes", _("Postleitzahlen (OpenStreetMap)")

    source = models.CharField(_("Quelle"), max_length=16, choices=Source.choices)
    land_key = models.CharField(_("Land"), max_length=2, default="16")
    gebietsstand = models.DateField(_("Gebietsstand"), null=True, blank=True)
    file_name = models.CharField(_("Dateiname"), max_length=255, blank=True, default="")
    sha256 = models.CharField(_("Prüfsumme (SHA-256)"), max_length=64)
    summary = models.JSONField(_("Ergebnis"), default=dict, blank=True)
    imported_at = models.DateTimeField(_("importiert am"), auto_now=True)

    class Meta:
        ordering = ["-imported_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "land_key", "sha256"], name="unique_data_edition_file"
            ),
        ]
        verbose_name = _("Datenstand")
        verbose_name_plural = _("Datenstände")

    def __str__(self) -> str:
        stand = f" {self.gebietsstand:%d.%m.%Y}" if self.gebietsstand else ""
        return f"{self.get_source_display()}{stand}"


class CacheVersion(models.Model):
    """A token that changes whenever the data behind an in-process cache changes.

    Kept in the database rather than in Redis so that it follows transactions:
    a rolled-back change also rolls back the token, and a process compares
    tokens for equality, so it rebuilds whenever the token differs.
    """

    name = models.CharField(max_length=60, unique=True)
    token = models.CharField(max_length=32)

    class Meta:
        verbose_name = _("Cache-Version")
        verbose_name_plural = _("Cache-Versionen")

    def __str__(self) -> str:
        return f"{self.name}: {self.token}"
