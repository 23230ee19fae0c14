"""Staff security: two-factor login for everyone, lockout, session timeout, password rules."""

from __future__ import annotations

import datetime
import re

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.templatetags.static import static
from django.test import Client
from django.utils import timezone

from tests.backoffice.backoffice_support import current_totp, make_staff, two_offices

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
    assert "Benutzername, Passwort oder Einmalcode ist falsch" in response.content.decode()
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


# --- Login failures look alike and all count (ASVS: no password oracle) -------------

_CSRF_VALUE = re.compile(rb'name="csrfmiddlewaretoken" value="[^"]*"')


def _comparable(response) -> tuple:
    # The masked CSRF token differs on every render, by design; nothing else may.
    return (
        response.status_code,
        _CSRF_VALUE.sub(b"", response.content),
        sorted(response.cookies.keys()),
    )


@pytest.mark.parametrize("second_factor", ["wrong code", "no code", "hostile code"])
def test_right_password_with_a_bad_code_gives_the_same_response_as_a_wrong_password(
    clerk, second_factor
):
    right = current_totp(clerk.user)
    code = {
        "wrong code": f"{(int(right) + 1) % 1_000_000:06d}",
        "no code": "",
        "hostile code": "<script>alert(1)</script>\u0660\u0661",
    }[second_factor]
    wrong_password = _login(Client(), "clerk_sec", "Falsches-Passwort-2026", "123456")
    right_password = _login(Client(), "clerk_sec", clerk.password, code)
    assert _comparable(right_password) == _comparable(wrong_password)
    page = right_password.content.decode()
    assert "Benutzername, Passwort oder Einmalcode ist falsch" in page
    # Nothing of the password is sent back.
    assert clerk.password not in page


def test_a_throttled_authenticator_gives_the_same_response_as_a_wrong_password(clerk):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    # Ten failures throttle the device for 2**9 s (django-otp's default factor of one
    # second), not the 4 s of three failures, which a loaded machine outlasted
    # between the two logins below (the right login then succeeded).
    TOTPDevice.objects.filter(user=clerk.user).update(
        throttling_failure_count=10, throttling_failure_timestamp=timezone.now()
    )
    wrong_password = _login(Client(), "clerk_sec", "Falsches-Passwort-2026", "123456")
    throttled = _login(Client(), "clerk_sec", clerk.password, current_totp(clerk.user))
    assert _comparable(throttled) == _comparable(wrong_password)


def test_five_wrong_codes_with_the_right_password_lock_the_account(clerk):
    assert settings.AXES_FAILURE_LIMIT == 5
    right = current_totp(clerk.user)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    client = Client()
    for _attempt in range(4):
        assert _login(client, "clerk_sec", clerk.password, wrong).status_code == 200
    assert AccessAttempt.objects.get(username="clerk_sec").failures_since_start == 4
    # The fifth failure is the one that locks, as with wrong passwords.
    assert _login(client, "clerk_sec", clerk.password, wrong).status_code == 429
    response = _login(Client(), "clerk_sec", clerk.password, current_totp(clerk.user))
    assert response.status_code == 429
    assert Client().get("/admin/").status_code == 302


def test_a_non_staff_account_with_the_right_password_counts_as_a_failed_login(clerk):
    clerk.user.is_staff = False
    clerk.user.save()
    response = _login(Client(), "clerk_sec", clerk.password, current_totp(clerk.user))
    assert response.status_code == 200
    assert AccessAttempt.objects.get(username="clerk_sec").failures_since_start == 1


# --- The printed one-time password is an initial password ----------------------------


def _next_totp(user) -> str:
    # A code is accepted once per 30-second step; a second login in the same step
    # uses the next step's code, accepted with django-otp's tolerance of one step
    # (as from an authenticator whose clock runs a little ahead).
    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.get(user=user)
    code = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=1)
    return f"{code:0{device.digits}d}"


def _create_with_command(capsys, username="neu.erst"):
    office, _ = two_offices()
    call_command("create_staff_user", username, "--office", str(office.pk), "--role", "clerk")
    out = capsys.readouterr().out
    from django.contrib.auth import get_user_model

    return (
        get_user_model().objects.get(username=username),
        out.split("One-time password: ")[1].split()[0],
        out,
    )


def test_initial_password_must_be_replaced_before_any_admin_page_works(capsys):
    user, password, out = _create_with_command(capsys)
    assert "valid until" in out
    client = Client()
    assert _login(client, user.username, password, current_totp(user)).status_code == 302
    for url in [
        "/admin/",
        "/admin/submissions/submission/",
        "/admin/backoffice/uebersicht/",
        "/admin/forms_catalog/service/",
    ]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"] == "/admin/password_change/", url
    page = client.get("/admin/password_change/", follow=False)
    assert page.status_code == 200
    assert "Erstpasswort" in page.content.decode()
    # The initial password itself is not accepted as the new one.
    response = client.post(
        "/admin/password_change/",
        {"old_password": password, "new_password1": password, "new_password2": password},
    )
    assert response.status_code == 200
    assert "muss sich vom bisherigen unterscheiden" in response.content.decode()
    assert client.get("/admin/submissions/submission/").status_code == 302
    new = "Mein-eigenes-Passwort-\u00e4\u00f6\u00fc-2026"
    response = client.post(
        "/admin/password_change/",
        {"old_password": password, "new_password1": new, "new_password2": new},
    )
    assert response.status_code == 302
    assert response["Location"] == "/admin/password_change/done/"
    # Same session (still verified by the code), now with normal access.
    assert client.get("/admin/submissions/submission/").status_code == 200
    assert client.get("/admin/").status_code == 200
    from backoffice.models import StaffProfile

    assert StaffProfile.objects.get(user=user).initial_password_issued_at is None
    assert _login(Client(), user.username, new, _next_totp(user)).status_code == 302


def test_expired_initial_password_is_refused_with_a_clear_message(capsys):
    from backoffice.models import StaffProfile

    user, password, _out = _create_with_command(capsys)
    assert settings.PORTAL_INITIAL_PASSWORD_HOURS == 72
    StaffProfile.objects.filter(user=user).update(
        initial_password_issued_at=timezone.now() - datetime.timedelta(hours=72, seconds=1)
    )
    client = Client()
    response = _login(client, user.username, password, current_totp(user))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Ihr Erstpasswort ist abgelaufen" in page
    assert client.get("/admin/").status_code == 302
    assert client.get("/admin/password_change/").status_code == 302
    # Without the second factor the expiry is not revealed: the usual refusal.
    response = _login(Client(), user.username, password, "")
    assert "abgelaufen" not in response.content.decode()
    assert "Benutzername, Passwort oder Einmalcode ist falsch" in response.content.decode()
    # A new one from the platform administration works again.
    call_command("axes_reset", verbosity=0)
    _user, fresh, _out = _create_with_command(capsys, username=user.username)
    assert fresh != password
    client = Client()
    assert _login(client, user.username, fresh, _next_totp(user)).status_code == 302
    assert client.get("/admin/")["Location"] == "/admin/password_change/"


# --- Lockout page and unlocking ------------------------------------------------------


def _lock(user, password):
    wrong = f"{(int(current_totp(user)) + 1) % 1_000_000:06d}"
    for _attempt in range(5):
        response = _login(Client(), user.username, password, wrong)
    return response


def test_lockout_page_is_styled_in_german_with_duration_and_contact(clerk, settings):
    settings.PORTAL_STAFF_SUPPORT_EMAIL = "servicedesk@rechenzentrum.example"
    response = _lock(clerk.user, clerk.password)
    assert response.status_code == 429
    assert response["Retry-After"] == "3600"
    page = response.content.decode()
    assert static("kern/kern.min.css") in page  # the portal's page, not axes' one line of text
    assert '<html lang="de">' in page
    assert "Anmeldung vorübergehend gesperrt" in page
    assert "Nach 5 fehlgeschlagenen Anmeldeversuchen" in page
    assert "1 Stunde nach dem letzten Fehlversuch" in page
    assert 'href="mailto:servicedesk@rechenzentrum.example"' in page
    assert "clerk_sec" not in page


def test_lockout_page_in_english(clerk):
    _lock(clerk.user, clerk.password)
    response = Client().post(
        "/admin/login/",
        {"username": "clerk_sec", "password": "x", "otp_token": "1", "next": "/admin/"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 429
    page = response.content.decode()
    assert '<html lang="en">' in page
    assert "Login temporarily blocked" in page
    assert "1 hour after the last failed attempt" in page
    assert "Anmeldung" not in page


def test_unlock_staff_user_lifts_the_lockout_and_the_code_throttle_and_is_audited(clerk, capsys):
    from backoffice.models import AuditEntry

    _lock(clerk.user, clerk.password)
    assert _login(Client(), "clerk_sec", clerk.password, current_totp(clerk.user)).status_code == (
        429
    )
    call_command("unlock_staff_user", "clerk_sec")
    out = capsys.readouterr().out
    assert "Unlocked clerk_sec" in out
    entry = AuditEntry.objects.get(action=AuditEntry.Action.UNLOCK_ACCOUNT)
    assert "clerk_sec" in entry.detail and "command line" in entry.detail
    client = Client()
    assert _login(client, "clerk_sec", clerk.password, current_totp(clerk.user)).status_code == 302
    assert client.get("/admin/").status_code == 200


def test_unlock_staff_user_refuses_an_unknown_account():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("unlock_staff_user", "niemand'; DROP TABLE auth_user;--")
