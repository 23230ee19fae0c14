"""Showing funnel figures without small counts: "< 5", hidden rates, bars as CSS classes."""

from __future__ import annotations

import datetime

from django import template
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from ..disclosure import count_display, share_visible

register = template.Library()


@register.filter
def funnel_count(value: int | None) -> str:
    """A count, or "< 5" for 1 to 4 (too few to show without pointing at someone)."""
    return count_display(value=value)


@register.simple_tag
def funnel_rate(part: int | None, whole: int | None) -> str:
    """part/whole in per cent (one decimal), or "–" when whole is below the small-count limit
    or part is a suppressed count."""
    if not share_visible(part=part, whole=whole):
        return "–"
    return f"{number_format(100 * (part or 0) / whole, decimal_pos=1)} %"


@register.simple_tag
def funnel_bar(part: int | None, whole: int | None) -> str:
    """The CSS class of a bar for part/whole, in steps of 5 % (the page's CSP allows no style
    attribute); "funnel-bar--none" when the share is hidden."""
    if not share_visible(part=part, whole=whole):
        return "funnel-bar--none"
    share = max(0.0, min(1.0, (part or 0) / whole))
    return f"funnel-bar--{int(share * 20 + 0.5) * 5}"


@register.filter
def funnel_duration(value: datetime.timedelta | None) -> str:
    """A median duration in days, hours and minutes ("–" when there is none)."""
    if value is None:
        return "–"
    minutes = int(value.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return _("%(d)s Tg. %(h)s Std.") % {"d": days, "h": hours}
    if hours:
        return _("%(h)s Std. %(m)s Min.") % {"h": hours, "m": minutes}
    return _("%(m)s Min.") % {"m": minutes}
