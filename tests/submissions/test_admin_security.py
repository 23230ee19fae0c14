"""Staff security: two-factor login for everyone, lockout, session timeout, password rules."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.test import Client

from tests.submissions.backoffice_support import current_totp, make_staff, two_offices

pytestmark = pytest.mark.django_db


@pytest.fixture
def clerk():
    office, _ = two_offices()
    return make_staff("clerk_sec", "clerk", [office], login=False)


def _login(client, username, password, token):
    return client.post(
        "/admin/login/",
        {"username": username, "password": password, "otp_token": token, "next": "/admin/"},
    )


def test_password_alone_does_not_open_the_admin(clerk):
    client = Client()
    response = _login(client, "clerk_sec", clerk.password, "")
    assert response.status_code == 200
    assert "Einmalcode" in response.content.decode()
    assert client.get("/admin/submissions/submission/").status_code == 302


def test_wrong_totp_code_is_refused(clerk):
    client = Client()
    right = current_totp(clerk.user)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    response = _login(client, "clerk_sec", clerk.password, wrong)
    assert response.status_code == 200
    assert "Einmalcode ist falsch" in response.content.decode()
    assert client.get("/admin/").status_code == 302


def test_a_password_session_without_otp_is_treated_as_no_access(clerk):
    client = Client()
    client.force_login(clerk.user)  # password-level session, no verified device
    response = client.get("/admin/submissions/submission/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_staff_without_a_device_cannot_log_in(clerk):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    TOTPDevice.objects.filter(user=clerk.user).delete()
    client = Client()
    response = _login(client, "clerk_sec", clerk.password, "123456")
    assert response.status_code == 200
    assert client.get("/admin/").status_code == 302


def test_real_totp_login_opens_the_admin(clerk):
    client = Client()
    response = _login(client, "clerk_sec", clerk.password, current_totp(clerk.user))
    assert response.status_code == 302
    assert client.get("/admin/submissions/submission/").status_code == 200


def test_lockout_after_five_failures_even_with_the_right_password_and_code(clerk):
    assert settings.AXES_FAILURE_LIMIT == 5
    client = Client()
    for attempt in range(5):
        response = _login(client, "clerk_sec", f"falsch-{attempt}", "000000")
    response = _login(client, "clerk_sec", clerk.password, current_totp(clerk.user))
    assert response.status_code == 429
    assert client.get("/admin/").status_code == 302
    # Another account from the same address is not locked (username + IP).
    other = make_staff("clerk_other", "clerk", [clerk.user.staff_memberships.get().office])
    assert other.client.get("/admin/").status_code == 200
    call_command("axes_reset", verbosity=0)
    response = _login(Client(), "clerk_sec", clerk.password, current_totp(clerk.user))
    # The code was not used in the locked attempt (axes stopped it first).
    assert response.status_code == 302


def test_session_expires_after_inactivity_and_is_renewed_by_activity(clerk):
    client = Client()
    _login(client, "clerk_sec", clerk.password, current_totp(clerk.user))
    assert settings.SESSION_SAVE_EVERY_REQUEST is True
    assert 0 < settings.SESSION_COOKIE_AGE <= 8 * 60 * 60
    response = client.get("/admin/")
    assert response.cookies["sessionid"]["max-age"] == settings.SESSION_COOKIE_AGE
    # Simulate the inactivity: the stored session expired.
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    Session.objects.update(expire_date=timezone.now())
    response = client.get("/admin/submissions/submission/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


@pytest.mark.parametrize(
    "password", ["kurz1!", "password1234", "123456789012345", "clerk_sec_2026"]
)
def test_password_rules_reject_weak_passwords(clerk, password):
    with pytest.raises(ValidationError):
        validate_password(password, clerk.user)


def test_create_staff_user_prints_one_time_password_and_totp_uri(capsys):
    office, _ = two_offices()
    call_command(
        "create_staff_user",
        "neu.sb",
        "--office",
        str(office.pk),
        "--role",
        "clerk",
        "--email",
        "neu@example.org",
    )
    out = capsys.readouterr().out
    assert "One-time password: " in out
    assert "otpauth://totp/" in out
    password = out.split("One-time password: ")[1].split()[0]
    validate_password(password)
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.get(username="neu.sb")
    assert user.groups.filter(name="Sachbearbeitung").exists()
    assert user.staff_memberships.get().office == office
    client = Client()
    assert _login(client, "neu.sb", password, current_totp(user)).status_code == 302


def test_create_staff_user_refuses_a_clerk_without_office_and_unknown_offices():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("create_staff_user", "x", "--role", "clerk")
    with pytest.raises(CommandError):
        call_command("create_staff_user", "x", "--role", "clerk", "--office", "987654")


def test_setup_roles_is_idempotent_and_keeps_citizen_data_from_kompetenzzentrum(capsys):
    from django.contrib.auth.models import Group

    call_command("setup_roles")
    call_command("setup_roles")
    names = set(Group.objects.values_list("name", flat=True))
    assert {"Sachbearbeitung", "Amtsleitung", "Kompetenzzentrum", "Plattform-Administration"} <= (
        names
    )
    kompetenz = Group.objects.get(name="Kompetenzzentrum")
    codenames = set(kompetenz.permissions.values_list("codename", flat=True))
    assert "publish_formversion" in codenames
    assert not {c for c in codenames if "submission" in c or "draft" in c or "attachment" in c}


def test_create_demo_accounts_prints_credentials(capsys):
    two_offices()
    call_command("create_demo_accounts")
    out = capsys.readouterr().out
    assert "admin (platform" in out
    assert "sachbearbeitung1 (clerk" in out
    assert "sachbearbeitung2 (clerk" in out
    assert out.count("TOTP secret") == 3
