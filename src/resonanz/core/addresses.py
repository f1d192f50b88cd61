"""Which addresses outgoing requests may reach: internal ranges and the administrator's allow-list.

Kept apart from the HTTP machinery in resonanz.core.outbound so other clients (IMAP, SMTP,
future socket-level channels) can ask the same question about a host they are about to connect to.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Ranges that ipaddress does not flag as non-global on Python 3.11, or flags inconsistently.
_EXTRA_INTERNAL: tuple[IPNetwork, ...] = (
    ipaddress.ip_network("100.64.0.0/10"),   # carrier-grade NAT
    ipaddress.ip_network("192.0.0.0/24"),    # IETF protocol assignments
    ipaddress.ip_network("fec0::/10"),       # deprecated site-local, still routed in some networks
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # well-known NAT64 prefix: the last 32 bits are IPv4
# Mail with no usable sender is stored under unknown-sender-<hash>@ this domain; .invalid never resolves,
# so nothing can be sent there, and the contact is shown as "Unknown sender" in the reader's language.
UNKNOWN_SENDER_DOMAIN = "unknown-sender.invalid"
UNKNOWN_SENDER_NAME = "Unknown sender"  # the English name stored before it was translated at display time
LOCAL_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")
LOOPBACKS = (ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1"))


# ---------------------------------------------------------------------------------------------
# Which addresses are internal


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped:
        return address.ipv4_mapped
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address.sixtofour:
        return address.sixtofour
    if address.teredo:
        return address.teredo[1]
    return None


def is_internal(address: IPAddress) -> bool:
    """True for every address that is not plainly on the public internet."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            if address.ipv4_mapped or address in _NAT64:
                return is_internal(embedded)  # these prefixes only carry the IPv4 address
            if is_internal(embedded):
                return True
    return (
        not address.is_global
        or address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or any(address in network for network in _EXTRA_INTERNAL if network.version == address.version)
    )


def numeric_address(host: str) -> IPAddress | None:
    """The address a host that is written as a number stands for, in every form the C library accepts.

    ``2130706433``, ``0177.0.0.1``, ``0x7f.1`` and ``127.1`` are all 127.0.0.1 to ``getaddrinfo``.
    """
    host = host.strip("[]")
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP, flags=socket.AI_NUMERICHOST)
    except (socket.gaierror, UnicodeError, ValueError):
        return None
    return ipaddress.ip_address(infos[0][4][0].split("%", 1)[0])


def _unwrap(address: IPAddress) -> IPAddress:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


# ---------------------------------------------------------------------------------------------
# The administrator's allow-list


@dataclass(frozen=True)
class AllowRule:
    """One entry of RESONANZ_OUTBOUND_ALLOW: a host name (``*.`` for subdomains) or an address range."""

    host: str | None = None
    network: IPNetwork | None = None
    port: int | None = None

    def allows_host(self, host: str, port: int) -> bool:
        if self.host is None or (self.port is not None and self.port != port):
            return False
        if self.host.startswith("*."):
            return host.endswith(self.host[1:])
        return host == self.host

    def allows_address(self, address: IPAddress, port: int) -> bool:
        if self.network is None or (self.port is not None and self.port != port):
            return False
        address = _unwrap(address)
        return address.version == self.network.version and address in self.network


def _port(text: str, entry: str) -> int:
    if not text.isascii() or not text.isdigit() or not 0 < int(text) < 65536:
        raise ImproperlyConfigured(f"RESONANZ_OUTBOUND_ALLOW: {entry!r} has no valid port.")
    return int(text)


def parse_allow_entry(entry: str) -> AllowRule:
    """``host``, ``host:port``, ``*.example.com``, ``10.1.2.3``, ``10.1.2.3:8080``, ``[fd00::1]:443``,
    ``10.0.0.0/8`` or ``fd00::/8``."""
    text = entry.strip()
    if not text:
        raise ImproperlyConfigured("RESONANZ_OUTBOUND_ALLOW has an empty entry.")
    if "/" in text:
        try:
            return AllowRule(network=ipaddress.ip_network(text, strict=False))
        except ValueError:
            raise ImproperlyConfigured(f"RESONANZ_OUTBOUND_ALLOW: {entry!r} is not a network like 10.0.0.0/8.") \
                from None
    if text.startswith("["):
        inside, bracket, rest = text[1:].partition("]")
        port = _port(rest[1:], entry) if rest.startswith(":") else None
        if not bracket or (rest and port is None):
            raise ImproperlyConfigured(f"RESONANZ_OUTBOUND_ALLOW: {entry!r} is not [address]:port.")
        try:
            return AllowRule(network=ipaddress.ip_network(inside), port=port)
        except ValueError:
            raise ImproperlyConfigured(f"RESONANZ_OUTBOUND_ALLOW: {entry!r} has no valid IPv6 address.") from None
    try:
        return AllowRule(network=ipaddress.ip_network(text))  # a bare IPv4 or IPv6 address
    except ValueError:
        pass
    host, port = text, None
    if text.count(":") == 1:
        host, raw_port = text.split(":")
        port = _port(raw_port, entry)
        try:
            return AllowRule(network=ipaddress.ip_network(host), port=port)
        except ValueError:
            pass
    name = host.lower().rstrip(".")
    bare = name[2:] if name.startswith("*.") else name
    labels = bare.split(".")
    if not bare or not all(label and len(label) <= 63 and label.replace("-", "").isalnum() and label.isascii()
                           for label in labels):
        raise ImproperlyConfigured(f"RESONANZ_OUTBOUND_ALLOW: {entry!r} is not a host name, address or network.")
    return AllowRule(host=name, port=port)


@lru_cache(maxsize=8)
def _parse_allow(entries: tuple[str, ...]) -> tuple[AllowRule, ...]:
    return tuple(parse_allow_entry(e) for e in entries if e.strip())


def allow_rules() -> tuple[AllowRule, ...]:
    """The allow-list from ``settings.RESONANZ_OUTBOUND_ALLOW`` (a list, or one comma-separated string)."""
    raw = getattr(settings, "RESONANZ_OUTBOUND_ALLOW", ()) or ()
    if isinstance(raw, str):
        raw = raw.split(",")
    return _parse_allow(tuple(str(e) for e in raw))


def host_allowed(host: str, port: int) -> bool:
    host = host.lower().rstrip(".")
    return any(rule.allows_host(host, port) for rule in allow_rules())


def address_allowed(host: str, address: IPAddress, port: int) -> bool:
    """May a request to ``host`` connect to ``address`` on ``port``?"""
    if host_allowed(host, port):
        return True
    if any(rule.allows_address(address, port) for rule in allow_rules()):
        return True
    return not is_internal(address)


# ---------------------------------------------------------------------------------------------
# A guarded TCP connection for clients that are not HTTP (IMAP, SMTP, future socket-level channels)


class InternalAddressError(OSError):
    """The host resolved only to internal addresses that the allow-list does not name.

    An OSError, so mail clients treat it like any failed connection; its text says what to do and
    names no port state (refused, filtered) behind the address.
    """

    def __init__(self, host: str) -> None:
        super().__init__(f"{host} is an internal address; an administrator can allow it with "
                         "RESONANZ_OUTBOUND_ALLOW")
        self.host = host


def connect(host: str, port: int, timeout: float | None = None, source_address=None) -> socket.socket:
    """Resolve ``host`` once, check every address, and connect to a checked one.

    Runs when the worker connects, not only when the form was saved: a name that resolved to a public
    address then and to 169.254.169.254 now (DNS rebinding, a changed record) is refused, and the socket
    goes to exactly the address that was checked, so a second DNS answer cannot slip in between.
    """
    name = host.strip("[]")
    infos = socket.getaddrinfo(name, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    checked: list[tuple] = []
    for family, socktype, proto, _canon, sockaddr in infos:
        address = ipaddress.ip_address(sockaddr[0].split("%", 1)[0])
        if address_allowed(name, address, port):
            checked.append((family, socktype, proto, sockaddr))
    if not checked:
        raise InternalAddressError(host)
    last: OSError | None = None
    for family, socktype, proto, sockaddr in checked:
        sock = socket.socket(family, socktype, proto)
        try:
            if timeout is not None:
                sock.settimeout(timeout)
            if source_address:
                sock.bind(source_address)
            sock.connect(sockaddr)
            return sock
        except OSError as exc:
            sock.close()
            last = exc
    assert last is not None
    raise last
