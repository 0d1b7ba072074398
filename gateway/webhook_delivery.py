"""Webhook targets and delivery over the network: only public HTTPS endpoints, never our own
network (SSRF), the address checked after DNS resolution and pinned for the connection."""

import http.client
import ipaddress
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

# Cloud metadata endpoints that are not in a private or link-local range everywhere.
_METADATA = {ipaddress.ip_address("fd00:ec2::254"), ipaddress.ip_address("100.100.100.200")}

Resolver = Callable[[str, int], list[str]]


class UnsafeTarget(ValueError):
    """A webhook URL the gateway will not call, with the reason in words."""


def resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (the system resolver)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


@dataclass(frozen=True)
class Target:
    """A checked URL and the address to connect to (pinned: no second DNS answer is used)."""

    url: str
    scheme: str
    host: str
    port: int
    path: str
    address: str


def _public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return not (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or address in _METADATA
        or (isinstance(address, ipaddress.IPv4Address) and address in _SHARED_SPACE)
    )


_SHARED_SPACE = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT, never a developer's


def check_target(url: str, *, allow_loopback: bool, resolver: Resolver = resolve) -> Target:
    """Return the target `url` names, or raise `UnsafeTarget`.

    HTTPS only, no credentials in the URL, and every address the host resolves to must be
    public: a private, loopback, link-local, shared or metadata address anywhere in the answer
    refuses the URL (an attacker's DNS may answer both). `allow_loopback` (development) admits
    http:// and https:// on loopback addresses only.
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeTarget("Not a valid URL.") from exc
    host = (parts.hostname or "").rstrip(".").lower()
    if parts.username or parts.password:
        raise UnsafeTarget("The URL may not carry credentials.")
    if not host:
        raise UnsafeTarget("The URL needs a host.")
    if parts.fragment:
        raise UnsafeTarget("The URL may not carry a fragment.")
    if parts.scheme not in ("https", "http"):
        raise UnsafeTarget("Only https:// URLs are accepted.")
    port = port or (443 if parts.scheme == "https" else 80)
    try:
        addresses = [ipaddress.ip_address(host)]
    except ValueError:
        try:
            addresses = [ipaddress.ip_address(a) for a in resolver(host, port)]
        except (OSError, ValueError) as exc:
            raise UnsafeTarget("The host name does not resolve.") from exc
    if not addresses:
        raise UnsafeTarget("The host name does not resolve.")
    if allow_loopback and all(a.is_loopback for a in addresses):
        pass  # development: a receiver on this machine, over http or https
    elif parts.scheme != "https":
        raise UnsafeTarget("Only https:// URLs are accepted.")
    elif not all(_public(a) for a in addresses):
        raise UnsafeTarget("The URL points at a private, loopback or metadata address.")
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return Target(url, parts.scheme, host, port, path, str(addresses[0]))


@dataclass(frozen=True)
class Outcome:
    """What one delivery attempt got: an HTTP status, or an error in words."""

    status: int | None
    error: str | None

    @property
    def acknowledged(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def post(
    target: Target,
    body: bytes,
    headers: dict[str, str],
    *,
    timeout: float,
    ca_file: str = "",
) -> Outcome:
    """POST `body` to the pinned address of `target`; never follows redirects."""
    try:
        sock = socket.create_connection((target.address, target.port), timeout=timeout)
    except OSError as exc:
        return Outcome(None, f"connect: {exc.__class__.__name__}")
    try:
        connection: http.client.HTTPConnection
        if target.scheme == "https":
            context = ssl.create_default_context(cafile=ca_file or None)
            tls = context.wrap_socket(sock, server_hostname=target.host)
            connection = http.client.HTTPSConnection(target.host, target.port, timeout=timeout)
            connection.sock = tls
        else:
            connection = http.client.HTTPConnection(target.host, target.port, timeout=timeout)
            connection.sock = sock
        connection.request("POST", target.path, body=body, headers=headers)
        response = connection.getresponse()
        response.read(4096)  # a receiver's body is not ours to keep
        return Outcome(response.status, None)
    except (OSError, http.client.HTTPException, ssl.SSLError) as exc:
        return Outcome(None, f"{exc.__class__.__name__}")
    finally:
        sock.close()
