"""Log a staff user into the admin in tests: the admin requires a verified second factor.

`client.force_login(user)` alone gives a password-level session, which the
admin treats as not logged in. `otp_force_login` also marks the session as
verified by a (created) TOTP device, as a real login with a code would.
The back-office tests log in through the real form with real TOTP codes;
this helper is for tests of other admin pages.
"""

from __future__ import annotations

from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice


def otp_force_login(client: Client, user) -> Client:
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="test", confirmed=True)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client
