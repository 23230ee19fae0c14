"""Validity dates shared by every dated unit: Gemeinden merge, rules and fees change by date.

Its own module, below ``models`` and ``model_fees``, so both build on it
without importing each other.
"""

from __future__ import annotations

import datetime

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ValidityQuerySet(models.QuerySet):
    def valid_on(self, day: datetime.date) -> ValidityQuerySet:
        return self.filter(valid_from__lte=day).filter(
            Q(valid_to__isnull=True) | Q(valid_to__gte=day)
        )

    def current(self) -> ValidityQuerySet:
        return self.valid_on(timezone.localdate())


class Validity(models.Model):
    valid_from = models.DateField(_("gültig ab"), default=datetime.date(1990, 10, 3))
    valid_to = models.DateField(_("gültig bis"), null=True, blank=True)

    objects = ValidityQuerySet.as_manager()

    class Meta:
        abstract = True

    def is_valid_on(self, day: datetime.date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)
