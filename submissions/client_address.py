"""The client's address, decided in one place for rate limits, audit entries and axes.

Behind a reverse proxy REMOTE_ADDR is the proxy. The proxy appends the address
it saw to X-Forwarded-For (nginx: `$proxy_add_x_forwarded_for`), so the header
is a chain whose left part the client wrote itself and whose right part each
trusted proxy appended. Only `PORTAL_TRUSTED_PROXIES` (addresses or networks)
are believed: the header is read only when the peer is one of them, and the
right-most address that is not a trusted proxy is the client.

python-ipware (under django-ipware) parses each hop: ports, brackets, quotes
and IPv4-mapped IPv6 are normalised the same way as in axes' own lookup. Its
own proxy model (a fixed count or a positional list of proxies inside the
header) cannot say "only if the peer is trusted" nor skip a variable number of
trusted hops, so the walk over the chain is done here.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Iterable

from django.conf import settings
from django.core.checks import Tags, Warning, register
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest
from python_ipware.modern.parsers import parse_ip

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

# A chain longer than this is cut: no deployment has that many proxies, and a
# client must not make every request walk a megabyte of header.
MAX_HOPS = 20


@functools.lru_cache(maxsize=8)
def trusted_networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    """Parse the configured proxies; an entry that is no IP or network is a configuration error."""
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError as exc:
            raise ImproperlyConfigured(
                f"PORTAL_TRUSTED_PROXIES: {entry!r} is not an IP address or network"
            ) from exc
    return tuple(networks)


def _trusted(address: Address, networks: Iterable[Network]) -> bool:
    return any(address.version == net.version and address in net for net in networks)


def client_address_resolve(*, request: HttpRequest) -> str | None:
    """The client's IP address as text, or None when the peer's address is unusable.

    Forwarded headers are ignored unless REMOTE_ADDR is a trusted proxy. Then
    X-Forwarded-For is walked from the right: trusted proxies are skipped, the
    first other address is the client. A hop that is not an IP address stops
    the walk (nothing left of it can be believed) and the nearest trusted
    proxy is returned; so is the left-most proxy when every hop is trusted.
    """
    peer = parse_ip(request.META.get("REMOTE_ADDR"))
    if peer is None:
        return None
    networks = trusted_networks(tuple(settings.PORTAL_TRUSTED_PROXIES))
    if not _trusted(peer, networks):
        return str(peer)
    header = request.META.get("HTTP_X_FORWARDED_FOR", "")
    # An empty hop is garbage too: no proxy writes one.
    hops = header.split(",") if isinstance(header, str) and header else []
    nearest = peer
    for raw in reversed(hops[-MAX_HOPS:]):
        hop = parse_ip(raw)
        if hop is None:
            break
        if not _trusted(hop, networks):
            return str(hop)
        nearest = hop
    return str(nearest)


def client_address_for_axes(request: HttpRequest) -> str | None:
    """Axes' AXES_CLIENT_IP_CALLABLE: lockouts key on the same address as everything else."""
    return client_address_resolve(request=request)


@register(Tags.security, deploy=True)
def check_trusted_proxies(app_configs=None, **kwargs) -> list[Warning]:
    """Behind a proxy without trusted proxies, all citizens share the proxy's address."""
    try:
        networks = trusted_networks(tuple(settings.PORTAL_TRUSTED_PROXIES))
    except ImproperlyConfigured as exc:
        return [Warning(str(exc), id="portal.W010")]
    if settings.SECURE_PROXY_SSL_HEADER and not networks:
        return [
            Warning(
                "DJANGO_BEHIND_PROXY is on but PORTAL_TRUSTED_PROXIES is empty: every "
                "request counts as coming from the proxy (one rate limit and one axes "
                "lockout for all clients, the proxy's address in every audit entry).",
                hint="Set PORTAL_TRUSTED_PROXIES to the reverse proxy's address or network.",
                id="portal.W011",
            )
        ]
    return []
