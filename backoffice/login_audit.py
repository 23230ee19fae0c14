"""Logins, logouts and failed logins of staff into the audit trail.

The receivers only pass the signal's facts on to the audit service. They are
connected when the admin loads (backoffice.admin), once the models are ready.
"""

from __future__ import annotations

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed

from submissions.client_address import client_address_resolve

from .audit import audit_login_record
from .models import AuditEntry


def _address(request) -> str | None:
    return client_address_resolve(request=request) if request is not None else None


def _logged_in(sender, request, user, **kwargs) -> None:
    audit_login_record(
        action=AuditEntry.Action.LOGIN,
        username=user.username,
        user=user,
        ip_address=_address(request),
    )


def _logged_out(sender, request, user, **kwargs) -> None:
    if user is None:
        return  # a session without a login ended: nobody to name
    audit_login_record(
        action=AuditEntry.Action.LOGOUT,
        username=user.username,
        user=user,
        ip_address=_address(request),
    )


def _login_failed(sender, credentials, request=None, **kwargs) -> None:
    username = credentials.get("username") if isinstance(credentials, dict) else ""
    audit_login_record(
        action=AuditEntry.Action.LOGIN_FAILED,
        username=str(username or ""),
        ip_address=_address(request),
    )


def connect_login_signals() -> None:
    """Connect the receivers. Idempotent."""
    user_logged_in.connect(_logged_in, dispatch_uid="backoffice-audit-login", weak=False)
    user_logged_out.connect(_logged_out, dispatch_uid="backoffice-audit-logout", weak=False)
    user_login_failed.connect(
        _login_failed, dispatch_uid="backoffice-audit-login-failed", weak=False
    )
