"""Small-count suppression for every figure the back office shows or exports.

A count from 1 to 4 is shown as "< 5": a "1" for Wohngeld in a village points
to a person. Zero is shown (it points to nobody). A total over cells of which
one or more are suppressed is withheld ("–"), because the total minus the
shown cells would give the suppressed ones back. A median or share computed
from fewer than 5 cases is withheld as well (the median of one case is that
person's processing time).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.utils.formats import number_format

# Figures below this are shown as "< 5".
SMALL_COUNT = 5
SUPPRESSED_TEXT = f"< {SMALL_COUNT}"
# A total withheld because it would reveal a suppressed cell; a median or share withheld.
WITHHELD_TEXT = "–"


def count_suppressed(*, value: int | None) -> bool:
    """True for the counts that must not be shown as they are (1 to 4)."""
    return 0 < int(value or 0) < SMALL_COUNT


def count_display(*, value: int | None) -> str:
    """A count for a page or a CSV: the number, or "< 5" for 1 to 4."""
    value = int(value or 0)
    if count_suppressed(value=value):
        return SUPPRESSED_TEXT
    return number_format(value, force_grouping=True)


def total_display(*, cells: Iterable[int | None], total: int | None = None) -> str:
    """The total of `cells` (or the given `total` over them), withheld when any cell is
    suppressed: otherwise subtraction would give the suppressed cell back."""
    values = [int(cell or 0) for cell in cells]
    if any(count_suppressed(value=value) for value in values):
        return WITHHELD_TEXT
    return count_display(value=sum(values) if total is None else total)


def basis_sufficient(*, count: int | None) -> bool:
    """Whether a median or share over `count` cases may be shown (at least 5, or none at all)."""
    return int(count or 0) >= SMALL_COUNT


def share_visible(*, part: int | None, whole: int | None) -> bool:
    """Whether part/whole may be shown: the whole has at least 5 cases and the part is not
    a suppressed count (with the whole shown, the share would give the part back)."""
    return basis_sufficient(count=whole) and not count_suppressed(value=part)


def count_export(*, value: int | None) -> str:
    """A count for a CSV cell: digits without grouping (spreadsheets read them as numbers),
    or "< 5" for 1 to 4."""
    value = int(value or 0)
    return SUPPRESSED_TEXT if count_suppressed(value=value) else str(value)
