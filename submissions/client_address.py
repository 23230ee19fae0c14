"""The client's address, decided in one place for rate limits, audit entries and axes.

Behind a reverse proxy REMOTE_ADDR is the proxy. The proxy appends the address
it saw to X-Forwarded-For (nginx: `$proxy_add_x_forwarded_for`), so the header
is a chain whose left part the client wrote itself and whose right part each
trusted proxy appended. Only `PORTAL_TRUSTED_PROXIES` (addresses or networks)
are believed: the header is read only when the peer is one of them, and the
right-most address that is not a trusted proxy is the client.

python-ipware (under django-ipware) parses each hop: ports, brackets, quotes
and IPv4-mapped IPv6 are normalised as django-ipware does it. Its
own proxy model (a fixed count or a positional list of proxies inside the
header) cannot say "only if the peer is trusted" nor skip a variable number of
trusted hops, so the walk over the chain is done here.
"""

from __future__ import annotations

import functools
import ipaddress
from dataclasses import dataclass

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
# The entry for a proxy that reaches gunicorn over a Unix socket (gunicorn
# --bind unix:...): such a peer has no address, REMOTE_ADDR is empty.
UNIX_SOCKET = "unix"


@dataclass(frozen=True)
class TrustedProxies:
    networks: tuple[Network, ...]
    unix_socket: bool

    def __contains__(self, address: Address) -> bool:
        return any(address.version == n.version and address in n for n in self.networks)


@functools.lru_cache(maxsize=8)
def trusted_proxies(entries: tuple[str, ...]) -> TrustedProxies:
    """Parse the configured proxies; an entry that is no IP or network is a configuration error."""
    networks = []
    for entry in (e.strip() for e in entries):
        if entry == UNIX_SOCKET:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError as exc:
            raise ImproperlyConfigured(
                f"PORTAL_TRUSTED_PROXIES: {entry!r} is not an IP address, network or 'unix'"
            ) from exc
    return TrustedProxies(networks=tuple(networks), unix_socket=UNIX_SOCKET in entries)


def client_address_resolve(*, request: HttpRequest) -> str | None:
    """The client's IP address as text, or None when it cannot be known.

    Forwarded headers are ignored unless the peer is a trusted proxy (by
    REMOTE_ADDR, or an empty REMOTE_ADDR when `unix` is trusted). Then
    X-Forwarded-For is walked from the right: trusted proxies are skipped, the
    first other address is the client. A hop that is not an IP address stops
    the walk (nothing left of it can be believed) and the nearest trusted
    proxy is returned; so is the left-most proxy when every hop is trusted.
    """
    proxies = trusted_proxies(tuple(settings.PORTAL_TRUSTED_PROXIES))
    remote_addr = request.META.get("REMOTE_ADDR")
    peer = parse_ip(remote_addr)
    if peer is None and not (proxies.unix_socket and not remote_addr):
        return None
    if peer is not None and peer not in proxies:
        return str(peer)
    header = request.META.get("HTTP_X_FORWARDED_FOR", "")
    # An empty hop is garbage too: no proxy writes one.
    hops = header.split(",") if isinstance(header, str) and header else []
    nearest = peer
    for raw in reversed(hops[-MAX_HOPS:]):
        hop = parse_ip(raw)
        if hop is None:
            break
        if hop not in proxies:
            return str(hop)
        nearest = hop
    return str(nearest) if nearest is not None else None


def client_address_for_axes(request: HttpRequest) -> str | None:
    """Axes' AXES_CLIENT_IP_CALLABLE: lockouts key on the same address as everything else."""
    return client_address_resolve(request=request)


@register(Tags.security, deploy=True)
def check_trusted_proxies(app_configs=None, **kwargs) -> list[Warning]:
    """Behind a proxy without trusted proxies, all citizens share the proxy's address."""
    try:
        proxies = trusted_proxies(tuple(settings.PORTAL_TRUSTED_PROXIES))
    except ImproperlyConfigured as exc:
        return [Warning(str(exc), id="portal.W010")]
    if settings.SECURE_PROXY_SSL_HEADER and not (proxies.networks or proxies.unix_socket):
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
