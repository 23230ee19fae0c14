"""Feedback on accessibility barriers (the feedback channel BITV 2.0 requires)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class AccessibilityFeedback(models.Model):
    message = models.TextField(_("Nachricht"))
    page_url = models.CharField(_("Betroffene Seite"), max_length=500, blank=True, default="")
    email = models.EmailField(_("E-Mail"), blank=True, default="")
    language = models.CharField(max_length=8, default="de")
    created_at = models.DateTimeField(_("eingegangen am"), auto_now_add=True)
    handled = models.BooleanField(_("erledigt"), default=False)

    class Meta:
        # The table it had in `submissions`, before the citizen app existed.
        db_table = "submissions_accessibilityfeedback"
        ordering = ["-created_at"]
        verbose_name = _("Rückmeldung zur Barrierefreiheit")
        verbose_name_plural = _("Rückmeldungen zur Barrierefreiheit")

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d} {self.message[:40]}"
