"""Filters of the workbench pages: German dates, local times, age in days."""

from __future__ import annotations

import datetime

from django import template
from django.utils import timezone

from ..event_labels import date_display, local_time_display

register = template.Library()


@register.filter
def german_date(value: datetime.date | None) -> str:
    """ "26.11.2026" ("–" for none)."""
    return date_display(value)


@register.filter
def local_time(value: datetime.datetime | None) -> str:
    """ "26.11.2026, 10:15 Uhr" in the portal's time zone."""
    return local_time_display(value)


@register.filter
def age_days(value: datetime.datetime | None) -> int | str:
    """Whole days since `value`."""
    if value is None:
        return "–"
    return (timezone.now() - value).days
