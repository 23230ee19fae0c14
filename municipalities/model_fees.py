"""Local fee parameters: amounts a municipality or Verband sets by its own Satzung."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from municipalities.validity import Validity


class LocalFeeParameter(Validity):
    """One named amount (e.g. the Hundesteuer for the first dog) for a service.

    Set either for a Gemeindeverband (applies to all its Gemeinden) or for one
    Gemeinde (wins over the Verband's value). The form's fee rules read them
    by key through `municipalities.selectors.fee_parameters`.
    """

    service = models.ForeignKey(
        "forms_catalog.Service",
        on_delete=models.CASCADE,
        related_name="local_fee_parameters",
        verbose_name=_("Leistung"),
    )
    verband = models.ForeignKey(
        "municipalities.Gemeindeverband",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="fee_parameters",
        verbose_name=_("Gemeindeverband"),
    )
    gemeinde = models.ForeignKey(
        "municipalities.Gemeinde",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="fee_parameters",
        verbose_name=_("Gemeinde"),
    )
    key = models.SlugField(
        _("Schlüssel"),
        max_length=60,
        help_text=_("Name des Werts in der Gebührenregel des Formulars, z. B. erster_hund."),
    )
    value = models.DecimalField(_("Betrag (EUR)"), max_digits=10, decimal_places=2)
    note = models.CharField(
        _("Grundlage"),
        max_length=200,
        blank=True,
        default="",
        help_text=_("z. B. Hundesteuersatzung vom …"),
    )

    class Meta:
        ordering = ["service", "key", "-valid_from"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(verband__isnull=False) & Q(gemeinde__isnull=True))
                | (Q(verband__isnull=True) & Q(gemeinde__isnull=False)),
                name="fee_parameter_for_verband_xor_gemeinde",
            ),
        ]
        verbose_name = _("örtlicher Gebührenwert")
        verbose_name_plural = _("örtliche Gebührenwerte")

    def __str__(self) -> str:
        return f"{self.service}: {self.key} = {self.value}"
