"""Services for staff accounts: create an account bound to offices, with a TOTP device."""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from .models import StaffMembership
from .roles import ROLE_GROUPS

OFFICE_BOUND_ROLES = {StaffMembership.Role.CLERK, StaffMembership.Role.LEAD}


class StaffError(Exception):
    pass


@dataclass(frozen=True)
class StaffCredentials:
    username: str
    password: str | None
    totp_secret: str
    provisioning_uri: str


def _one_time_password() -> str:
    # 20 URL-safe characters: well beyond the 12-character minimum, not common, not numeric.
    return secrets.token_urlsafe(15)


def totp_secret(device: TOTPDevice) -> str:
    """The base32 secret an authenticator app accepts (as in the provisioning URI)."""
    return base64.b32encode(device.bin_key).decode().rstrip("=")


def staff_create(
    *,
    username: str,
    role: str,
    office_ids: list[int] | tuple[int, ...] = (),
    email: str = "",
    reset_password: bool = True,
) -> StaffCredentials:
    """Create or update a staff account in `role`, bound to offices, with a confirmed TOTP device.

    Idempotent for the same arguments: memberships and the group are
    added, an existing TOTP device is kept. With reset_password a new
    one-time password is set and returned; the user should change it.
    """
    from municipalities.models import Office

    if role not in ROLE_GROUPS:
        raise StaffError(f"unknown role {role!r}; choose one of {', '.join(ROLE_GROUPS)}")
    if role in OFFICE_BOUND_ROLES and not office_ids:
        raise StaffError("clerks and office leads need at least one --office")
    offices = list(Office.objects.filter(pk__in=office_ids))
    missing = set(office_ids) - {office.pk for office in offices}
    if missing:
        raise StaffError(f"unknown office id(s): {', '.join(str(i) for i in sorted(missing))}")
    with transaction.atomic():
        user, _created = get_user_model().objects.get_or_create(username=username)
        user.is_staff = True
        user.is_active = True
        if email:
            user.email = email
        if role == StaffMembership.Role.PLATFORM:
            user.is_superuser = True
        password = None
        if reset_password or not user.has_usable_password():
            password = _one_time_password()
            validate_password(password, user)
            user.set_password(password)
        user.save()
        user.groups.add(Group.objects.get(name=ROLE_GROUPS[role]))
        if role in OFFICE_BOUND_ROLES:
            for office in offices:
                StaffMembership.objects.get_or_create(user=user, office=office, role=role)
        else:
            StaffMembership.objects.get_or_create(user=user, office=None, role=role)
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
        if device is None:
            device = TOTPDevice.objects.create(user=user, name="Authenticator", confirmed=True)
    return StaffCredentials(
        username=user.username,
        password=password,
        totp_secret=totp_secret(device),
        provisioning_uri=device.config_url,
    )
