"""Reads for the office leads' own fee parameters: which Verband and Gemeinden a user may set.

The one place that decides the scope of `municipalities.LocalFeeParameter` in
the admin (`admin.fees`): platform administrators everything, an office lead
the Gemeindeverband their office administers and its Gemeinden, everyone else
nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet

from forms_catalog.models import FormVersion, Service
from forms_catalog.selectors import declared_parameters
from municipalities.model_fees import LocalFeeParameter
from municipalities.models import Gemeinde, Gemeindeverband, Office

from .case_selectors import User, _memo, is_platform_admin, office_ids_for_user
from .models import StaffMembership
from .roles import KOMPETENZZENTRUM_GROUP


@dataclass(frozen=True)
class FeeScope:
    """What a user may set: everything, or the listed Verbände and Gemeinden."""

    everything: bool
    verband_ids: frozenset[int] = frozenset()
    gemeinde_ids: frozenset[int] = frozenset()

    @property
    def empty(self) -> bool:
        return not self.everything and not self.verband_ids and not self.gemeinde_ids


def fee_scope_for_user(*, user: User) -> FeeScope:
    """Memoised for the request (on request.user): the admin's navigation asks for every
    model's permissions on every page, ten times two queries for an office lead."""
    return _memo(user, "fee_scope", lambda: _fee_scope(user=user))


def _fee_scope(*, user: User) -> FeeScope:
    if is_platform_admin(user=user):
        return FeeScope(everything=True)
    office_ids = office_ids_for_user(user=user, roles=(StaffMembership.Role.LEAD,))
    if not office_ids:
        return FeeScope(everything=False)
    verband_ids = frozenset(
        Office.objects.filter(pk__in=office_ids, verband__isnull=False).values_list(
            "verband_id", flat=True
        )
    )
    gemeinde_ids = frozenset(
        Gemeinde.objects.filter(verband_id__in=verband_ids).values_list("pk", flat=True)
    )
    return FeeScope(everything=False, verband_ids=verband_ids, gemeinde_ids=gemeinde_ids)


def fee_parameters_for_user(*, user: User) -> QuerySet[LocalFeeParameter]:
    """The local fee parameters `user` may see and edit."""
    queryset = LocalFeeParameter.objects.all()
    scope = fee_scope_for_user(user=user)
    if scope.everything:
        return queryset
    if scope.empty:
        return queryset.none()
    return queryset.filter(
        Q(verband_id__in=scope.verband_ids) | Q(gemeinde_id__in=scope.gemeinde_ids)
    )


def fee_verbaende_for_user(*, user: User) -> QuerySet[Gemeindeverband]:
    scope = fee_scope_for_user(user=user)
    if scope.everything:
        return Gemeindeverband.objects.all()
    return Gemeindeverband.objects.filter(pk__in=scope.verband_ids)


def fee_gemeinden_for_user(*, user: User) -> QuerySet[Gemeinde]:
    scope = fee_scope_for_user(user=user)
    if scope.everything:
        return Gemeinde.objects.all()
    return Gemeinde.objects.filter(pk__in=scope.gemeinde_ids)


def alias_scope_for_user(*, user: User) -> FeeScope:
    """Whose Ortsteile and former names `user` may maintain: platform
    administrators and the Kompetenzzentrum all Gemeinden, an office lead those
    of the Verband their office administers (as for fees), everyone else none."""
    if is_platform_admin(user=user):
        return FeeScope(everything=True)
    if (
        user.is_authenticated
        and user.is_active
        and user.groups.filter(name=KOMPETENZZENTRUM_GROUP).exists()
    ):
        return FeeScope(everything=True)
    return fee_scope_for_user(user=user)


def alias_gemeinden_for_user(*, user: User) -> QuerySet[Gemeinde]:
    """The Gemeinden whose Ortsteile and former names `user` may maintain."""
    scope = alias_scope_for_user(user=user)
    if scope.everything:
        return Gemeinde.objects.all()
    return Gemeinde.objects.filter(pk__in=scope.gemeinde_ids)


def parameter_services() -> dict[Service, list[dict[str, Any]]]:
    """Services whose published form declares fee parameters, with those declarations."""
    found: dict[Service, list[dict[str, Any]]] = {}
    for service in Service.objects.filter(versions__status=FormVersion.Status.PUBLISHED).distinct():
        declared = declared_parameters(service=service)
        if declared:
            found[service] = declared
    return found
