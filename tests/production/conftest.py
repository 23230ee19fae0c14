"""The production stack, started once per module: nginx (TLS) → gunicorn → S3, SMTP, worker."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import redis
from django.conf import settings

from tests.backoffice.backoffice_support import current_totp
from tests.support.production import ProductionPortal, production_portal


@pytest.fixture(scope="module")
def production_stack(
    django_db_setup, tmp_path_factory, s3_server, session_smtp_server
) -> Iterator[ProductionPortal]:
    with production_portal(
        tmp_path_factory.mktemp("production"), s3=s3_server, smtp=session_smtp_server
    ) as portal:
        yield portal


@pytest.fixture
def portal(production_stack, transactional_db, smtp_server) -> ProductionPortal:
    """The stack with committed data visible to it and no rate-limit counts left over."""
    # Not FLUSHDB: the running worker's queue bindings live in the same Redis database.
    client = redis.Redis.from_url(settings.REDIS_URL)
    for key in client.scan_iter(match="*ratelimit:*"):
        client.delete(key)
    return production_stack


def csrf_token(html: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)


def staff_login_over_http(
    http, portal: ProductionPortal, user, password: str, *, code=None, headers=None
):
    """The admin login form as a browser posts it (CSRF token, Referer over HTTPS)."""
    url = portal.url + "/admin/login/"
    form = http.get(url + "?next=/admin/", headers=headers)
    assert form.status_code == 200, form.text[:2000]
    return http.post(
        url,
        data={
            "csrfmiddlewaretoken": csrf_token(form.text),
            "username": user.username,
            "password": password,
            "otp_token": code if code is not None else current_totp(user),
            "next": "/admin/",
        },
        headers={"Referer": url, **(headers or {})},
        allow_redirects=False,
    )
