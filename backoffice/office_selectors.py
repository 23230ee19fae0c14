"""Reads for the office leads' own contact data: which offices a user may keep current.

The one place that decides the scope of `OfficeContact` in the admin
(`admin.offices`): platform administrators every office, an office lead the
offices they lead, everyone else (clerks included) none.
"""

from __future__ import annotations

from django.db.models import QuerySet

from .case_selectors import User, is_platform_admin, office_ids_for_user
from .models import OfficeContact, StaffMembership


def contact_offices_for_user(*, user: User) -> QuerySet[OfficeContact]:
    """The offices whose contact data `user` may see and edit in the admin."""
    if is_platform_admin(user=user):
        return OfficeContact.objects.all()
    office_ids = office_ids_for_user(user=user, roles=(StaffMembership.Role.LEAD,))
    return OfficeContact.objects.filter(pk__in=office_ids)
