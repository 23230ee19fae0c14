"""Services for staff accounts: create an account bound to offices, with a TOTP device.

Also the account security around it: initial passwords that expire and must be
replaced, failed second factors counted as failed logins, unlocking an account.
"""

from __future__ import annotations

import base64
import datetime
import secrets
from dataclasses import dataclass

from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.signals import user_login_failed
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from municipalities.models import Office

from .audit import audit_record
from .models import AuditEntry, StaffMembership, StaffProfile
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
    # When the printed one-time password stops working (None: no new password).
    password_expires_at: datetime.datetime | None = None


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
    one-time password is set and returned. It is an initial password: it
    expires after PORTAL_INITIAL_PASSWORD_HOURS and opens nothing but the
    password change page until its owner has replaced it.
    """
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
        expires_at = None
        if reset_password or not user.has_usable_password():
            password = _one_time_password()
            validate_password(password, user)
            user.set_password(password)
        user.save()
        if password is not None:
            issued_at = timezone.now()
            StaffProfile.objects.update_or_create(
                user=user, defaults={"initial_password_issued_at": issued_at}
            )
            expires_at = issued_at + initial_password_lifetime()
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
        password_expires_at=expires_at,
    )


def initial_password_lifetime() -> datetime.timedelta:
    return datetime.timedelta(hours=settings.PORTAL_INITIAL_PASSWORD_HOURS)


def initial_password_issued_at(*, user) -> datetime.datetime | None:
    """When the user's current password was issued as an initial one; None if they chose it."""
    return (
        StaffProfile.objects.filter(user_id=user.pk)
        .values_list("initial_password_issued_at", flat=True)
        .first()
    )


def initial_password_expired(*, user, now: datetime.datetime | None = None) -> bool:
    """True if the user still has an initial password and it is older than its lifetime."""
    issued_at = initial_password_issued_at(user=user)
    if issued_at is None:
        return False
    return (now or timezone.now()) >= issued_at + initial_password_lifetime()


def staff_password_change(*, user, password: str) -> None:
    """Replace the user's password with one they chose; an initial password stops being initial.

    Validates against the password rules (raises ValidationError). The caller
    has checked the old password (Django's password change form does).
    """
    validate_password(password, user)
    with transaction.atomic():
        user.set_password(password)
        user.save(update_fields=["password"])
        StaffProfile.objects.filter(user_id=user.pk).update(initial_password_issued_at=None)


def staff_login_failure_record(*, request: HttpRequest, username: str) -> None:
    """Count a refused login whose password was right as a failed login, like a wrong password.

    For a wrong or missing one-time code, a missing device or a non-staff
    account. django-axes counts failures through Django's `user_login_failed`
    signal (which `authenticate()` sends for a wrong password), so the same
    signal makes this attempt count towards the same lockout; the password
    is not passed on.
    """
    user_login_failed.send(sender=__name__, credentials={"username": username}, request=request)


@dataclass(frozen=True)
class UnlockReport:
    username: str
    attempts_removed: int
    devices_reset: int


def staff_unlock(*, username: str, operator: str) -> UnlockReport:
    """Lift the login lockout of a staff account, from every address, and audit it.

    Removes axes' failure records for the username and resets the throttle
    of the account's TOTP devices (which slows down codes after wrong ones).
    `operator` names who ran it (recorded in the audit trail). Idempotent.
    """
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise StaffError(f"no account named {username!r}")
    with transaction.atomic():
        attempts = axes_reset(username=username)
        devices = 0
        for device in TOTPDevice.objects.filter(user=user):
            device.throttle_reset()
            devices += 1
        audit_record(
            actor=None,
            action=AuditEntry.Action.UNLOCK_ACCOUNT,
            detail=(
                f"account {username}: {attempts} failed-login record(s) removed, "
                f"{devices} device throttle(s) reset, by {operator}"
            ),
        )
    return UnlockReport(username=username, attempts_removed=attempts, devices_reset=devices)
