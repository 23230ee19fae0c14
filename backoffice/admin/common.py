"""What every back-office list shares: a capped row count and the cleaning of search terms."""

from __future__ import annotations

import re

from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404
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


class ScopedObjectMixin:
    """For a ModelAdmin whose `get_queryset` is the user's scope: other objects are a 404.

    The stock admin redirects with "does not exist" for an object outside the
    queryset; a 404 says no more than that and is what the back office answers,
    on the change, history and delete pages alike.
    """

    def get_object(self, request, object_id, from_field=None):
        try:
            return self.get_queryset(request).get(pk=int(object_id))
        except (TypeError, ValueError, self.model.DoesNotExist):
            return None

    def _require_visible(self, request, object_id) -> None:
        if self.get_object(request, object_id) is None:
            raise Http404

    def change_view(self, request, object_id, form_url="", extra_context=None):
        self._require_visible(request, object_id)
        return super().change_view(request, object_id, form_url, extra_context)

    def history_view(self, request, object_id, extra_context=None):
        self._require_visible(request, object_id)
        return super().history_view(request, object_id, extra_context)

    def delete_view(self, request, object_id, extra_context=None):
        self._require_visible(request, object_id)
        return super().delete_view(request, object_id, extra_context)


class ReadOnlyMixin:
    """For a ModelAdmin whose rows only services write: nobody adds, changes or deletes here."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class InScopeOnlyMixin:
    """Every admin permission also needs the staff member's scope (`_in_scope`) to be non-empty.

    The subclass defines `_in_scope(request)`; a staff member outside it sees
    neither the model in the index nor any of its pages.
    """

    def has_view_permission(self, request, obj=None):
        return self._in_scope(request) and super().has_view_permission(request, obj)

    def has_add_permission(self, request):
        return self._in_scope(request) and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None):
        return self._in_scope(request) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._in_scope(request) and super().has_delete_permission(request, obj)

    def has_module_permission(self, request):
        return self._in_scope(request) and super().has_module_permission(request)
