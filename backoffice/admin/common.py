"""What every back-office list shares: a capped row count and the cleaning of search terms."""

from __future__ import annotations

import re

from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.utils.functional import cached_property

# Lists count at most this many rows; beyond it the list says "über 2000" and
# offers the first 40 pages (at 50 per page): a clerk narrows with filters.
LIST_COUNT_CAP = 2_000
_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")


class CappedCount(int):
    """A row count that stands for "more than this"; prints as such in the admin."""

    def __str__(self) -> str:
        return f"über {int(self)}"


class CappedCountPaginator(Paginator):
    """Counts at most LIST_COUNT_CAP + 1 rows instead of COUNT(*) over a huge table."""

    @cached_property
    def count(self) -> int:
        object_list = self.object_list
        if not isinstance(object_list, QuerySet):
            return len(object_list)
        # Without ORDER BY the planner may combine indexes (e.g. office and
        # trigram name search) instead of walking the sort order.
        counted = object_list.order_by()[: LIST_COUNT_CAP + 1].count()
        return CappedCount(LIST_COUNT_CAP) if counted > LIST_COUNT_CAP else counted


def search_term_clean(search_term: str | None) -> str:
    """A search term without control characters, trimmed to 100 characters ("" for None)."""
    return _CONTROL_CHARS.sub("", search_term or "").strip()[:100]
