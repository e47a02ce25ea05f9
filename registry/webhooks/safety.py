"""Where a webhook may be sent: `http(s)` only, `https` in production, and never (in production,
unless `WEBHOOK_ALLOW_PRIVATE`) to an address inside the registry's own network: loopback,
private, link-local (cloud metadata at 169.254.169.254 among them), or any other address that
is not globally routable. Checked when an endpoint is saved and again before every attempt, as a
name's DNS answer may change between the two (DNS rebinding)."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Mapping

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import NewConnectionError

from registry.core.errors import InvalidInput
from registry.core.urls import split_url, valid_host

Resolver = Callable[[str, int], list[str]]


def resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({info[4][0] for info in infos})


NAT64 = ipaddress.ip_network("64:ff9b::/96")  # RFC 6052: the last 32 bits are an IPv4 address


def is_public(address: str) -> bool:
    """Whether `address` is globally routable. An IPv6 address that carries an IPv4 one (mapped,
    6to4, NAT64) counts as that IPv4 address: a gateway would take the request there."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if ip in NAT64:
            ip = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        else:
            ip = ip.ipv4_mapped or ip.sixtofour or ip
    return ip.is_global and not ip.is_multicast


def checks_addresses(config: Mapping) -> bool:
    return config.get("REGISTRY_ENV") == "production" and not config.get("WEBHOOK_ALLOW_PRIVATE")


def check_url(url: str, config: Mapping, resolver: Resolver = resolve, field: str = "url") -> str:
    """`url` if a webhook may be sent there, else `InvalidInput` naming `field`."""
    split = split_url(url.strip())
    if split is None or split[0].scheme not in ("http", "https") or not split[0].hostname \
            or not valid_host(_bracketed(split[0])):
        raise InvalidInput("invalid.webhook_url", field=field, name=field)
    parts, port = split
    if parts.username or parts.password:
        raise InvalidInput("invalid.webhook_url_credentials", field=field, name=field)
    port = port or (443 if parts.scheme == "https" else 80)
    if config.get("REGISTRY_ENV") == "production" and parts.scheme != "https":
        raise InvalidInput("invalid.webhook_url_https", field=field, name=field)
    if checks_addresses(config):
        refuse_private(parts.hostname, port, resolver, field)
    return url.strip()


def _bracketed(parts) -> str:
    """The URL's host as written in it (an IPv6 address in brackets)."""
    return f"[{parts.hostname}]" if "[" in parts.netloc else parts.hostname


def refuse_private(host: str, port: int, resolver: Resolver = resolve, field: str = "url") -> None:
    """`InvalidInput` unless every address `host` resolves to is public."""
    try:
        addresses = resolver(host, port)
    except (OSError, UnicodeError):
        raise InvalidInput("invalid.webhook_url_unresolvable", field=field, name=field) from None
    if not addresses or not all(is_public(address) for address in addresses):
        raise InvalidInput("invalid.webhook_url_private", field=field, name=field)


class PrivateAddress(NewConnectionError):
    """A connection reached an address that is not public: closed before a byte was sent."""


class _PublicOnly:
    """Checks the address a connection reached, not only the one a lookup gave before it: a
    name may resolve to a public address for the check and to a private one a moment later
    for the connection (DNS rebinding)."""

    def _new_conn(self):
        sock = super()._new_conn()
        address = sock.getpeername()[0]
        if not is_public(address):
            sock.close()
            raise PrivateAddress(self, f"{address} is not a public address")
        return sock


class _PublicHTTPConnection(_PublicOnly, HTTPConnection):
    pass


class _PublicHTTPSConnection(_PublicOnly, HTTPSConnection):
    pass


class _PublicHTTPPool(HTTPConnectionPool):
    ConnectionCls = _PublicHTTPConnection


class _PublicHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _PublicHTTPSConnection


class PublicOnlyAdapter(HTTPAdapter):
    """A `requests` adapter whose direct connections are refused (`PrivateAddress`) unless the
    address reached is public. Through a configured proxy, the proxy is the one reached."""

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _PublicHTTPPool, "https": _PublicHTTPSPool}
