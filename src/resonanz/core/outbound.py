"""Every HTTP request Resonanz makes goes through here, so no URL can reach an internal host.

Feed URLs, connection checks, rule webhooks and social-network clients take URLs from
administrators, agents or (through redirects) from strangers. Without a guard, any of them
can be pointed at the cloud metadata service, the database or an admin panel on the
company's network (SSRF). The guard works at the socket: the host name is resolved once,
every resolved address is checked, and the connection goes to exactly the checked address,
so a DNS answer that changes between check and connect (rebinding) cannot slip through.
Each redirect hop opens its own connection and is checked the same way.

What counts as internal, and the administrator's ``RESONANZ_OUTBOUND_ALLOW`` (a comma-separated
environment variable), live in resonanz.core.addresses.

Errors never tell what is behind a port: a refused, closed, filtered, slow or non-HTTP port
all give the same message; the details go to the log for operators.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from urllib.parse import urlsplit

import requests
from django.core.exceptions import ValidationError
from django.utils.translation import gettext, gettext_lazy
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError
from urllib3.util import connection as urllib3_connection

from resonanz.core.addresses import LOCAL_NAMES, LOOPBACKS, address_allowed, host_allowed, numeric_address

log = logging.getLogger("resonanz.core.outbound")

SCHEMES = ("http", "https")
DEFAULT_TIMEOUT = (5.0, 30.0)  # (connect, read) seconds, used when a caller gives none
MAX_REDIRECTS = 5
USER_AGENT = "Resonanz (+https://github.com/resonanz)"

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
    if host_allowed(host, port):
        return
    address = numeric_address(host)
    if address is not None:
        if not address_allowed(host, address, port):
            raise RefusedURL("internal", host=host)
        return
    name = host.lower()
    if (name in LOCAL_NAMES or name.endswith(".localhost")) and not any(
            address_allowed(host, loopback, port) for loopback in LOOPBACKS):
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
