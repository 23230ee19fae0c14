"""The client's address behind trusted reverse proxies, with headers a client can forge."""

from __future__ import annotations

import pytest
from axes.helpers import get_client_ip_address
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory

from submissions.client_address import check_trusted_proxies, client_address_resolve
from submissions.ratelimit import rate_limit_hit

PROXY = "10.0.0.5"


@pytest.fixture
def behind_proxy(settings):
    settings.PORTAL_TRUSTED_PROXIES = ["10.0.0.0/24", "fd00:abcd::/64"]
    return settings


def request(remote_addr: str | None, forwarded_for: str | None = None, **extra):
    meta = dict(extra)
    if forwarded_for is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded_for
    req = RequestFactory().get("/", **meta)
    if remote_addr is None:
        del req.META["REMOTE_ADDR"]
    else:
        req.META["REMOTE_ADDR"] = remote_addr
    return req


def resolve(*args, **kwargs) -> str | None:
    return client_address_resolve(request=request(*args, **kwargs))


def test_without_trusted_proxies_a_forged_forwarded_for_is_ignored(settings):
    settings.PORTAL_TRUSTED_PROXIES = []
    assert resolve("198.51.100.7", "1.2.3.4") == "198.51.100.7"


def test_forged_forwarded_for_from_an_untrusted_peer_is_ignored(behind_proxy):
    # A client talking to gunicorn directly (past the proxy) claims another address.
    assert resolve("198.51.100.7", "1.2.3.4, 10.0.0.9") == "198.51.100.7"
    assert resolve("198.51.100.7", "10.0.0.5") == "198.51.100.7"


def test_client_cannot_spoof_by_sending_its_own_forwarded_for_through_the_proxy(behind_proxy):
    # nginx appends the real peer to what the client sent: the right-most untrusted hop wins.
    assert resolve(PROXY, "1.2.3.4, 203.0.113.9") == "203.0.113.9"
    assert resolve(PROXY, "10.0.0.7, 203.0.113.9") == "203.0.113.9"


def test_several_trusted_hops_are_skipped_from_the_right(behind_proxy):
    assert resolve(PROXY, "1.2.3.4, 203.0.113.9, 10.0.0.8, 10.0.0.6") == "203.0.113.9"


def test_ipv6_client_and_ipv6_proxy(behind_proxy):
    assert resolve("fd00:abcd::1", "2001:db8::42") == "2001:db8::42"
    assert resolve("fd00:abcd::1", "[2001:DB8::43]:51234") == "2001:db8::43"
    # An IPv4 client seen by a dual-stack proxy as an IPv4-mapped address.
    assert resolve(PROXY, "::ffff:203.0.113.9") == "203.0.113.9"
    # A direct IPv6 peer outside the trusted network: header ignored.
    assert resolve("2001:db8::99", "1.2.3.4") == "2001:db8::99"


@pytest.mark.parametrize(
    "garbage",
    [
        "unknown",
        "<script>alert(1)</script>",
        "1.2.3.4\x00",
        "999.1.1.1",
        "' OR 1=1 --",
        "for=_hidden",
        "1.2.3.4 5.6.7.8",
        ",,, ,",
        "a" * 5000,
    ],
)
def test_garbage_in_the_trusted_hop_falls_back_to_the_proxy_not_to_the_forged_left(
    behind_proxy, garbage
):
    # Whatever stands left of garbage was not written by a trusted proxy.
    assert resolve(PROXY, f"1.2.3.4, {garbage}") == PROXY


def test_only_trusted_hops_give_the_left_most_proxy(behind_proxy):
    # e.g. the proxy's own health check.
    assert resolve(PROXY, "10.0.0.7, 10.0.0.6") == "10.0.0.7"
    assert resolve(PROXY) == PROXY
    assert resolve(PROXY, "") == PROXY


def test_a_huge_chain_is_cut_and_does_not_reach_the_forged_left(behind_proxy):
    chain = ", ".join(["1.2.3.4"] + ["10.0.0.1"] * 5000)
    assert resolve(PROXY, chain) == "10.0.0.1"


def test_proxy_on_a_unix_socket_is_trusted_only_when_configured(settings):
    # gunicorn --bind unix:...: the proxy's requests have an empty REMOTE_ADDR.
    settings.PORTAL_TRUSTED_PROXIES = ["unix"]
    assert resolve("", "1.2.3.4, 203.0.113.9") == "203.0.113.9"
    assert resolve("", "") is None
    assert resolve("", "1.2.3.4, garbage") is None
    # A TCP peer is still not trusted.
    assert resolve("198.51.100.7", "1.2.3.4") == "198.51.100.7"
    settings.PORTAL_TRUSTED_PROXIES = ["127.0.0.1"]
    assert resolve("", "203.0.113.9") is None


def test_unusable_remote_addr_gives_none(behind_proxy):
    assert resolve(None, "1.2.3.4") is None
    assert resolve("", "1.2.3.4") is None
    assert resolve("not-an-ip", "1.2.3.4") is None


def test_invalid_trusted_proxy_entry_is_a_configuration_error(settings):
    settings.PORTAL_TRUSTED_PROXIES = ["10.0.0.0/24", "proxy.internal"]
    with pytest.raises(ImproperlyConfigured, match=r"proxy\.internal"):
        resolve(PROXY)
    assert [w.id for w in check_trusted_proxies()] == ["portal.W010"]


def test_deploy_check_warns_behind_a_proxy_without_trusted_proxies(settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.PORTAL_TRUSTED_PROXIES = []
    assert [w.id for w in check_trusted_proxies()] == ["portal.W011"]
    settings.PORTAL_TRUSTED_PROXIES = ["127.0.0.1"]
    assert check_trusted_proxies() == []


def test_axes_keys_lockouts_on_the_same_address(behind_proxy):
    req = request(PROXY, "1.2.3.4, 203.0.113.9")
    assert get_client_ip_address(req) == "203.0.113.9"


def test_rate_limit_behind_proxy_counts_each_client_not_the_proxy(behind_proxy, redis_client):
    redis_client.flushdb()
    for _ in range(10):
        assert not rate_limit_hit(request=request(PROXY, "203.0.113.1"), scope="status")
    assert rate_limit_hit(request=request(PROXY, "203.0.113.1"), scope="status")
    # Another citizen behind the same proxy, and the first one forging a header.
    assert not rate_limit_hit(request=request(PROXY, "203.0.113.2"), scope="status")
    assert rate_limit_hit(request=request(PROXY, "203.0.113.2, 203.0.113.1"), scope="status")
