"""Outgoing requests never reach internal hosts unless an administrator allows them.

The servers are real HTTP servers on 127.0.0.1 and ::1; that nothing reached them when a
request was refused is read from their own request logs.
"""

from __future__ import annotations

import ipaddress
import socket
import threading

import pytest
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from resonanz.core import addresses, outbound


@pytest.fixture
def allow(settings):
    def set_allow(*entries: str) -> None:
        settings.RESONANZ_OUTBOUND_ALLOW = list(entries)

    set_allow()  # nothing allowed unless a test says so
    return set_allow


def refused(url: str, code: str = "internal") -> outbound.RefusedURL:
    with pytest.raises(outbound.RefusedURL) as info:
        outbound.get(url, timeout=(2, 2))
    assert info.value.code == code, info.value
    return info.value


@pytest.mark.parametrize("host", ["127.0.0.1", "2130706433", "0x7f.0.0.1", "0177.0.0.1", "127.1", "localhost"])
def test_loopback_is_refused_by_default_in_every_spelling(allow, server, host):
    error = refused(server.url("/ok", host=host))
    assert "internal address" in str(error) and "RESONANZ_OUTBOUND_ALLOW" in str(error)
    assert server.paths == []  # never connected


def test_allow_listed_host_and_port_is_reached(allow, server, other_server):
    allow(f"127.0.0.1:{server.port}")
    response = outbound.get(server.url())
    assert response.status_code == 200 and response.text == "ok"
    assert server.paths == ["/ok"]
    refused(other_server.url())  # the entry names one port, not the whole host
    assert other_server.paths == []


@pytest.mark.parametrize("entry", ["127.0.0.0/8", "127.0.0.1", "localhost"])
def test_allow_list_entry_kinds(allow, server, entry):
    allow(entry)
    assert outbound.get(server.url("/ok", host="localhost")).text == "ok"


def test_localhost_resolves_to_loopback_and_is_refused(allow, server):
    """The name is resolved and the address checked: allowing 127.0.0.1 lets "localhost" through."""
    refused(server.url("/ok", host="localhost"))
    allow(f"127.0.0.1:{server.port}")
    assert outbound.get(server.url("/ok", host="localhost")).text == "ok"


def test_ipv6_loopback_and_ipv4_mapped_addresses_are_refused(allow, server6, server):
    refused(server6.url())
    refused(server.url("/ok", host="::ffff:127.0.0.1"))
    assert server6.paths == [] and server.paths == []
    allow(f"[::1]:{server6.port}", f"127.0.0.1:{server.port}")  # the servers are there: allowed, they answer
    assert outbound.get(server6.url()).text == "ok"
    assert outbound.get(server.url("/ok", host="::ffff:127.0.0.1")).text == "ok"


def test_redirect_to_an_internal_address_is_refused(allow, server, other_server, server6):
    allow(f"127.0.0.1:{server.port}")
    for target in (other_server.url(), other_server.url("/ok", host="localhost"), server6.url(),
                   "http://169.254.169.254/latest/meta-data/"):
        refused(server.url(f"/redirect?to={target}"))
    assert other_server.paths == [] and server6.paths == []
    allow(f"127.0.0.1:{server.port}", f"127.0.0.1:{other_server.port}")
    response = outbound.get(server.url(f"/redirect?to={other_server.url()}"))
    assert response.text == "ok" and other_server.paths == ["/ok"]  # allowed hops are followed


def test_redirect_to_another_scheme_is_refused(allow, server):
    allow(f"127.0.0.1:{server.port}")
    for target in ("file:///etc/passwd", "gopher://127.0.0.1:70/_", "ftp://example.com/"):
        error = refused(server.url(f"/redirect?to={target}"), code="scheme")
        assert "Only http:// and https://" in str(error)


@pytest.mark.parametrize("url", ["file:///etc/passwd", "gopher://example.com/", "ftp://example.com/x",
                                 "dict://127.0.0.1:11211/", "data:text/plain,hi", "javascript:alert(1)"])
def test_other_schemes_are_refused_before_anything_happens(allow, url):
    error = refused(url, code="scheme")
    assert "Only http:// and https:// addresses are allowed" in str(error)


@pytest.mark.parametrize("url", ["//example.com/x", "example.com/feed"])
def test_a_url_without_scheme_says_what_is_missing(allow, url):
    assert "needs to start with https:// or http://" in str(refused(url, code="no_scheme"))


def test_errors_survive_pickling_for_the_task_queue():
    import pickle

    error = outbound.RefusedURL("internal", host="10.0.0.1")
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is outbound.RefusedURL and str(again) == str(error) and again.code == "internal"


def test_one_message_for_closed_silent_and_non_http_ports(allow):
    """An attacker learns nothing about what listens on a port from the error."""
    allow("127.0.0.1")
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    closed_port = closed.getsockname()[1]
    closed.close()

    silent = socket.create_server(("127.0.0.1", 0))  # accepts, never answers

    chatty = socket.create_server(("127.0.0.1", 0))  # not HTTP: greets like an SSH server and hangs up

    def greet():
        while True:
            try:
                conn, _ = chatty.accept()
            except OSError:
                return
            conn.sendall(b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n")
            conn.close()

    threading.Thread(target=greet, daemon=True).start()
    messages = {}
    try:
        for name, port in (("closed", closed_port), ("silent", silent.getsockname()[1]),
                           ("chatty", chatty.getsockname()[1])):
            with pytest.raises(outbound.Unreachable) as info:
                outbound.get(f"http://127.0.0.1:{port}/", timeout=(1, 1))
            messages[name] = str(info.value).replace(str(port), "<port>")
    finally:
        silent.close()
        chatty.close()
    assert len(set(messages.values())) == 1, messages
    assert messages["closed"] == "No HTTP answer from 127.0.0.1:<port> (refused, unreachable, timed out or not " \
                                 "a web server)."


def test_checked_address_is_the_connected_one(allow, server, monkeypatch):
    """DNS rebinding: a name that answers 127.0.0.1 first and another address next time is resolved once."""
    allow(f"127.0.0.1:{server.port}")
    real = socket.getaddrinfo
    asked = []

    def rebinding_dns(host, *args, **kwargs):
        if host != "rebind.test":
            return real(host, *args, **kwargs)
        asked.append(host)
        address = "127.0.0.1" if len(asked) == 1 else "127.0.0.2"  # the second answer is nowhere allowed
        return real(address, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding_dns)
    assert outbound.get(f"http://rebind.test:{server.port}/ok").text == "ok"
    assert asked == ["rebind.test"]


def test_responses_are_read_up_to_a_limit(allow, server):
    allow(f"127.0.0.1:{server.port}")
    assert outbound.read_limited(outbound.get(server.url("/big"), stream=True), 5000) == b"x" * 5000
    with pytest.raises(outbound.ResponseTooLarge):
        outbound.read_limited(outbound.get(server.url("/big"), stream=True), 4999)


def test_proxies_are_not_used(allow, server):
    allow(f"127.0.0.1:{server.port}")
    with pytest.raises(outbound.RefusedURL) as info:
        outbound.get(server.url(), proxies={"http": "http://127.0.0.1:3128"})
    assert info.value.code == "proxy"


def test_environment_proxy_is_ignored(allow, server, monkeypatch):
    """A proxy would resolve the host itself, out of the guard's sight."""
    allow(f"127.0.0.1:{server.port}")
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("http_proxy", "http://127.0.0.1:9")
    assert outbound.get(server.url()).text == "ok"


# -- the validator forms call when a URL setting is saved --------------------------------------

@pytest.mark.parametrize("url", [
    "file:///etc/passwd", "gopher://example.com/", "ftp://example.com/", "http://localhost/feed",
    "http://app.localhost/", "http://127.0.0.1/", "http://2130706433/", "http://0x7f.1/", "http://[::1]/",
    "http://[::ffff:10.0.0.1]/", "http://169.254.169.254/latest/meta-data/", "http://[fe80::1]/",
    "http://10.0.0.8:8080/", "http://192.168.1.1/", "http://100.64.0.1/", "http://0.0.0.0/",
    "http://224.0.0.1/", "http://[fd00::1]/", "https://", "http://exa mple.com/", "http://example.com:99999/",
])
def test_validator_refuses_internal_and_non_http_urls(allow, url):
    with pytest.raises(ValidationError):
        outbound.validate_outbound_url(url)


@pytest.mark.parametrize("url", ["https://example.com/feed.xml", "http://8.8.8.8/", "https://[2606:4700::1111]/",
                                 "https://blog.example.org:8443/rss"])
def test_validator_accepts_public_urls(allow, url):
    outbound.validate_outbound_url(url)


def test_validator_honours_the_allow_list_and_speaks_german(allow):
    with translation.override("de"):
        with pytest.raises(ValidationError) as scheme:
            outbound.validate_outbound_url("gopher://example.com/")
        assert "Nur http:// und https:// sind als Adresse erlaubt, nicht gopher:." == scheme.value.messages[0]
        with pytest.raises(ValidationError) as internal:
            outbound.validate_outbound_url("http://10.1.2.3/feed")
        assert "10.1.2.3 ist eine interne Adresse" in internal.value.messages[0]
    allow("10.0.0.0/8", "intranet.local")
    outbound.validate_outbound_url("http://10.1.2.3/feed")
    outbound.validate_outbound_url("http://intranet.local/feed")


# -- addresses and the allow-list --------------------------------------------------------------

@pytest.mark.parametrize("address", [
    "127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.0.1", "169.254.169.254", "100.64.0.1", "0.0.0.0",
    "224.0.0.1", "240.0.0.1", "255.255.255.255", "192.0.0.8", "198.18.0.1", "::1", "::", "fe80::1", "fc00::1",
    "fec0::1", "ff02::1", "::ffff:127.0.0.1", "::ffff:169.254.169.254", "64:ff9b::a00:1", "2002:7f00:1::1",
    "2001:db8::1", "::127.0.0.1",
])
def test_internal_addresses(address):
    assert addresses.is_internal(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["8.8.8.8", "1.1.1.1", "2606:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808"])
def test_public_addresses(address):
    assert not addresses.is_internal(ipaddress.ip_address(address))


@given(st.ip_addresses(v=4))
def test_ipv4_mapped_ipv6_is_judged_like_the_ipv4_address(address):
    mapped = ipaddress.IPv6Address(f"::ffff:{address}")
    assert addresses.is_internal(mapped) == addresses.is_internal(address)


@pytest.mark.parametrize("entry", ["not a host", "10.0.0.0/33", "example.com:99999", "[::1", "[::1]x",
                                   "host:port", "ex_ample.com"])
def test_a_mistyped_allow_list_entry_is_named(entry):
    with pytest.raises(ImproperlyConfigured, match="RESONANZ_OUTBOUND_ALLOW"):
        addresses.parse_allow_entry(entry)


def test_allow_list_from_the_environment_format(settings):
    settings.RESONANZ_OUTBOUND_ALLOW = "feeds.intranet.example:443, 10.20.0.0/16,[fd00::1]:8080,*.corp.example"
    rules = addresses.allow_rules()
    assert len(rules) == 4
    assert addresses.address_allowed("feeds.intranet.example", ipaddress.ip_address("10.9.9.9"), 443)
    assert not addresses.address_allowed("feeds.intranet.example", ipaddress.ip_address("10.9.9.9"), 80)
    assert addresses.address_allowed("x", ipaddress.ip_address("10.20.3.4"), 5432)
    assert addresses.address_allowed("x", ipaddress.ip_address("fd00::1"), 8080)
    assert not addresses.address_allowed("x", ipaddress.ip_address("fd00::1"), 8081)
    assert addresses.address_allowed("wiki.corp.example", ipaddress.ip_address("10.1.1.1"), 80)
    assert not addresses.address_allowed("corp.example.evil", ipaddress.ip_address("10.1.1.1"), 80)


# -- where URLs are saved ------------------------------------------------------------------------

@pytest.mark.django_db
@pytest.mark.parametrize("url", ["http://169.254.169.254/latest/meta-data/", "http://localhost:6379/",
                                 "http://[::1]/", "http://10.0.0.5/hook"])
def test_a_rule_webhook_to_an_internal_address_is_refused_when_saved(allow, url):
    from resonanz.automation.actions import validate
    from resonanz.core.errors import ActionError

    with pytest.raises(ActionError, match="internal address"):
        validate(name="Notify", trigger="message_received", conditions={"all": []},
                 actions=[{"type": "webhook", "url": url, "secret": "s" * 16}])


@pytest.mark.parametrize("url", ["http://169.254.169.254/feed", "http://127.0.0.1:8000/rss", "http://[fe80::1]/x"])
def test_a_feed_on_an_internal_address_is_refused_in_its_settings(allow, url):
    from resonanz.connectors.drivers.base import DriverError
    from resonanz.connectors.drivers.feed import feed_list

    with pytest.raises(DriverError, match="internal address"):
        feed_list({"feeds": [{"url": url}]})


def test_social_clients_use_the_guarded_session(allow, server):
    """Mastodon and Bluesky servers are addresses an administrator types in: the worker's requests to them
    pass the same guard at connect time as feeds and webhooks."""
    from resonanz.connectors.social.bluesky import BlueskyClient
    from resonanz.connectors.social.mastodon import MastodonClient

    assert isinstance(MastodonClient(server.url(), "token").http, outbound.GuardedSession)
    assert isinstance(BlueskyClient(server.url(), "me.test", "pw").http, outbound.GuardedSession)
    with pytest.raises(outbound.RefusedURL):
        MastodonClient(server.url(), "token").http.get(server.url("/api/v1/accounts/verify_credentials"))
    assert server.paths == []
