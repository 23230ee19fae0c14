"""Showing counts in the back office's pages with small counts suppressed (see disclosure.py)."""

from __future__ import annotations

from django import template

from ..disclosure import (
    WITHHELD_TEXT,
    basis_sufficient,
    count_display,
    share_visible,
    total_display,
)

register = template.Library()


@register.filter
def figure(value: int | None) -> str:
    """A count, or "< 5" for 1 to 4."""
    return count_display(value=value)


@register.simple_tag
def figure_total(cells, total=None) -> str:
    """The total over `cells`, or "–" when a cell is suppressed (subtraction would reveal it)."""
    return total_display(cells=cells, total=total)


@register.simple_tag
def figure_share(part: int | None, whole: int | None) -> str:
    """part/whole in whole per cent, or "–" when it could give a suppressed count back."""
    if not share_visible(part=part, whole=whole):
        return WITHHELD_TEXT
    return f"{round(100 * (part or 0) / whole)} %"


@register.filter
def figure_basis(count: int | None) -> bool:
    """Whether a median over `count` cases may be shown."""
    return basis_sufficient(count=count)
