"""Every HTTP request Resonanz makes goes through here, so no URL can reach an internal host.

Feed URLs, connection checks, rule webhooks and social-network clients take URLs from
administrators, agents or (through redirects) from strangers. Without a guard, any of them
can be pointed at the cloud metadata service, the database or an admin panel on the
company's network (SSRF). The guard works at the socket: the host name is resolved once,
every resolved address is checked, and the connection goes to exactly the checked address,
so a DNS answer that changes between check and connect (rebinding) cannot slip through.
Each redirect hop opens its own connection and is checked the same way.

An administrator allows internal hosts with ``RESONANZ_OUTBOUND_ALLOW`` (a comma-separated
environment variable, see :func:`allow_rules`).

Errors never tell what is behind a port: a refused, closed, filtered, slow or non-HTTP port
all give the same message; the details go to the log for operators.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.utils.translation import gettext, gettext_lazy
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError
from urllib3.util import connection as urllib3_connection

log = logging.getLogger("resonanz.core.outbound")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

SCHEMES = ("http", "https")
DEFAULT_TIMEOUT = (5.0, 30.0)  # (connect, read) seconds, used when a caller gives none
MAX_REDIRECTS = 5
USER_AGENT = "Resonanz (+https://github.com/resonanz)"

# Ranges that ipaddress does not flag as non-global on Python 3.11, or flags inconsistently.
_EXTRA_INTERNAL: tuple[IPNetwork, ...] = (
    ipaddress.ip_network("100.64.0.0/10"),   # carrier-grade NAT
    ipaddress.ip_network("192.0.0.0/24"),    # IETF protocol assignments
    ipaddress.ip_network("fec0::/10"),       # deprecated site-local, still routed in some networks
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # well-known NAT64 prefix: the last 32 bits are IPv4
_LOCAL_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")
_LOOPBACKS = (ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1"))

MESSAGES = {
    "scheme": gettext_lazy("Only http:// and https:// addresses are allowed, not %(scheme)s:."),
    "no_scheme": gettext_lazy("The address %(url)s needs to start with https:// or http://."),
    "no_host": gettext_lazy("The address %(url)s has no host name."),
    "invalid": gettext_lazy("%(url)s is not a valid web address."),
    "internal": gettext_lazy(
        "%(host)s is an internal address. An administrator can allow it with RESONANZ_OUTBOUND_ALLOW."),
    "proxy": gettext_lazy("Outgoing requests do not go through proxies."),
    "unreachable": gettext_lazy(
        "No HTTP answer from %(host)s:%(port)s (refused, unreachable, timed out or not a web server)."),
    "too_large": gettext_lazy("The answer of %(host)s is larger than %(limit)s bytes."),
}


class OutboundError(requests.RequestException):
    """A request Resonanz refused to make or could not complete; the message is safe to show.

    It is a ``requests.RequestException``, so call sites that already catch those keep working.
    """

    def __init__(self, code: str, **params) -> None:
        self.code = code
        self.params = params
        super().__init__(gettext(MESSAGES[code]) % params)

    @property
    def message(self) -> str:
        return str(self.args[0])

    def __reduce__(self):  # picklable for Celery, which stores a task's exception
        return _rebuild, (self.__class__, self.code, self.params)


class RefusedURL(OutboundError):
    """The URL itself is not allowed: its scheme, its syntax or an internal address."""


class Unreachable(OutboundError):
    """Nothing usable answered; deliberately the same for refused, closed and filtered ports."""


class ResponseTooLarge(OutboundError):
    pass


# What a refused, closed, filtered, slow or non-HTTP port can raise; all of it becomes one message.
_TRANSPORT_ERRORS = (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError,
                     requests.exceptions.ContentDecodingError)


def _rebuild(cls, code: str, params: dict):
    return cls(code, **params)


class _InternalAddress(Exception):
    """Raised inside urllib3; not an OSError, so urllib3 neither wraps nor retries it."""

    def __init__(self, host: str) -> None:
        super().__init__(host)
        self.host = host


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


def _numeric_address(host: str) -> IPAddress | None:
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


def _host_allowed(host: str, port: int) -> bool:
    host = host.lower().rstrip(".")
    return any(rule.allows_host(host, port) for rule in allow_rules())


def address_allowed(host: str, address: IPAddress, port: int) -> bool:
    """May a request to ``host`` connect to ``address`` on ``port``?"""
    if _host_allowed(host, port):
        return True
    if any(rule.allows_address(address, port) for rule in allow_rules()):
        return True
    return not is_internal(address)


# ---------------------------------------------------------------------------------------------
# URL checks (no DNS): for forms when a URL is saved, and before every request and redirect


def _split(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of an http(s) URL, or RefusedURL."""
    if not isinstance(url, str) or not url.strip():
        raise RefusedURL("invalid", url=repr(url))
    url = url.strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise RefusedURL("invalid", url=url[:200]) from None
    scheme = parts.scheme.lower()
    if not scheme:
        raise RefusedURL("no_scheme", url=url[:200])
    if scheme not in SCHEMES:
        raise RefusedURL("scheme", scheme=scheme or "?")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise RefusedURL("no_host", url=url[:200])
    if any(c.isspace() or ord(c) < 32 for c in host):
        raise RefusedURL("invalid", url=url[:200])
    return scheme, host, port or (443 if scheme == "https" else 80)


def check_url(url: str) -> None:
    """Refuse what can be refused without DNS: other schemes, broken URLs, internal addresses and
    local names written into the URL. For forms, so the mistake shows when the setting is saved;
    requests check the resolved address again when they connect."""
    _scheme, host, port = _split(url)
    if _host_allowed(host, port):
        return
    address = _numeric_address(host)
    if address is not None:
        if not address_allowed(host, address, port):
            raise RefusedURL("internal", host=host)
        return
    name = host.lower()
    if (name in _LOCAL_NAMES or name.endswith(".localhost")) and not any(
            address_allowed(host, loopback, port) for loopback in _LOOPBACKS):
        raise RefusedURL("internal", host=host)


def validate_outbound_url(value: str) -> None:
    """Django validator for every URL setting Resonanz will fetch or post to (forms, API serializers)."""
    try:
        check_url(value)
    except RefusedURL as exc:
        raise ValidationError(MESSAGES[exc.code], code=f"outbound_{exc.code}", params=exc.params) from None


# ---------------------------------------------------------------------------------------------
# The guarded connection: resolve once, check every address, connect to the checked one


class _GuardedConnectionMixin:
    """Replaces urllib3's resolve-and-connect so the checked address is the connected one."""

    def _new_conn(self) -> socket.socket:
        host, port = self._dns_host.strip("[]"), self.port  # type: ignore[attr-defined]
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
        except (socket.gaierror, UnicodeError) as exc:
            raise NewConnectionError(self, f"could not resolve {host}: {exc}") from exc  # type: ignore[arg-type]
        addresses: list[str] = []
        for *_ignored, sockaddr in infos:
            literal = sockaddr[0].split("%", 1)[0]
            address = ipaddress.ip_address(literal)
            if address_allowed(self.host, address, port):  # type: ignore[attr-defined]
                if literal not in addresses:
                    addresses.append(literal)
            else:
                log.warning("outbound request to %s refused: %s is internal", host, address)
        if not addresses:
            raise _InternalAddress(self.host)  # type: ignore[attr-defined]
        last: Exception | None = None
        for literal in addresses:
            try:
                return urllib3_connection.create_connection(
                    (literal, port), self.timeout,  # type: ignore[attr-defined]
                    source_address=self.source_address,  # type: ignore[attr-defined]
                    socket_options=self.socket_options,  # type: ignore[attr-defined]
                )
            except TimeoutError as exc:
                last = ConnectTimeoutError(self, f"connection to {host} ({literal}) timed out")
                last.__cause__ = exc
            except OSError as exc:
                last = NewConnectionError(self, f"connection to {host} ({literal}) failed: {exc}")  # type: ignore[arg-type]
                last.__cause__ = exc
        assert last is not None
        raise last


class GuardedHTTPConnection(_GuardedConnectionMixin, HTTPConnection):
    pass


class GuardedHTTPSConnection(_GuardedConnectionMixin, HTTPSConnection):
    pass


class GuardedHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = GuardedHTTPConnection


class GuardedHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = GuardedHTTPSConnection


class GuardedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args, **kwargs) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": GuardedHTTPConnectionPool, "https": GuardedHTTPSConnectionPool}

    def proxy_manager_for(self, proxy, **proxy_kwargs):
        raise RefusedURL("proxy")


class GuardedSession(requests.Session):
    """A requests session whose every request and redirect hop passes the guard.

    Environment proxies and .netrc are ignored (``trust_env = False``): a proxy would resolve
    the host itself and the guard could not see where the request goes.
    """

    def __init__(self) -> None:
        super().__init__()
        self.trust_env = False
        self.max_redirects = MAX_REDIRECTS
        self.headers["User-Agent"] = USER_AGENT
        adapter = GuardedAdapter()
        self.adapters.clear()
        self.mount("https://", adapter)
        self.mount("http://", adapter)

    def request(self, method, url, *args, **kwargs):
        _split(url)  # a clear message for file:, gopher:, ftp: … before requests says anything
        if kwargs.get("proxies"):
            raise RefusedURL("proxy")
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = DEFAULT_TIMEOUT
        return super().request(method, url, *args, **kwargs)

    def send(self, request, **kwargs):
        """Called for the first request and for every redirect hop; addresses are checked at connect."""
        _scheme, host, port = _split(request.url)
        try:
            return super().send(request, **kwargs)
        except OutboundError:
            raise
        except _InternalAddress:
            raise RefusedURL("internal", host=host) from None
        except _TRANSPORT_ERRORS as exc:
            log.info("outbound request to %s:%s failed: %r", host, port, exc)
            raise Unreachable("unreachable", host=host, port=port) from None


def session() -> GuardedSession:
    return GuardedSession()


def request(method: str, url: str, **kwargs) -> requests.Response:
    """One guarded request in a fresh session (use :func:`session` for many to one host).

    With ``stream=True`` the session stays open for the body; it goes with the response.
    """
    s = GuardedSession()
    try:
        response = s.request(method, url, **kwargs)
    except BaseException:
        s.close()
        raise
    if not kwargs.get("stream"):
        s.close()
    return response


def get(url: str, **kwargs) -> requests.Response:
    return request("GET", url, **kwargs)


def post(url: str, **kwargs) -> requests.Response:
    return request("POST", url, **kwargs)


def read_limited(response: requests.Response, limit: int) -> bytes:
    """The body of a ``stream=True`` response, refused once it passes ``limit`` bytes."""
    host = urlsplit(response.url).hostname or "?"
    body = bytearray()
    try:
        with response:
            for chunk in response.iter_content(65536):
                body += chunk
                if len(body) > limit:
                    raise ResponseTooLarge("too_large", host=host, limit=limit)
    except _TRANSPORT_ERRORS as exc:
        log.info("reading the answer of %s failed: %r", host, exc)
        raise Unreachable("unreachable", host=host, port=urlsplit(response.url).port or "") from None
    return bytes(body)
