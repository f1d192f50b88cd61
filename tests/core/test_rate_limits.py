"""Abuse limits on public endpoints: a burst is cut off with 429 + Retry-After, normal use passes, and the count
is shared through the database (several connections at once cut the burst at exactly the limit)."""

from __future__ import annotations

import json
import threading
import time

import pytest
from django.db import connection
from django.test import Client
from rest_framework.test import APIClient

from resonanz.connectors.actions import create_channel
from resonanz.core import ratelimit
from resonanz.core.models import RateCounter


@pytest.fixture
def limits(settings):
    """Small limits, so a test shows the cut without thousands of requests."""
    settings.RESONANZ_RATE_LIMITS = {**settings.RESONANZ_RATE_LIMITS, "help_search": "5/60", "help_vote": "3/600",
                                     "community_login": "2/600", "contact_form": "3/600", "survey": "4/600",
                                     "webhook": "5/60", "password_reset": "2/3600", "api_token": "3/60",
                                     "chat_ip": "4/60"}
    return settings.RESONANZ_RATE_LIMITS


@pytest.fixture(autouse=True)
def steady_clock(monkeypatch):
    """A burst in a test must not straddle the end of a window (the count would start again): the clock
    stands still 10 s into a fresh hour."""
    moment = (int(time.time()) // 3600 + 1) * 3600 + 10
    monkeypatch.setattr(ratelimit, "_now", lambda: moment)


def burst(send, n):
    return [send().status_code for _ in range(n)]


@pytest.mark.django_db
def test_help_search_burst_is_cut_normal_use_passes(limits, client):
    codes = burst(lambda: client.get("/help/de/search/", {"q": "Rechnung"}), 7)
    assert codes == [200] * 5 + [429] * 2
    refused = client.get("/help/de/search/", {"q": "Rechnung"})
    assert int(refused["Retry-After"]) == 50  # the window of 60 s started 10 s ago
    assert "Too many requests" in refused.content.decode() or "Zu viele" in refused.content.decode()
    # another address searching normally is not affected
    assert Client(REMOTE_ADDR="10.9.9.9").get("/help/de/search/", {"q": "Rechnung"}).status_code == 200


@pytest.mark.django_db
def test_help_votes_are_limited_per_address(limits, client):
    codes = burst(lambda: client.post("/help/de/1/feedback/", {"helpful": "yes"}), 5)
    assert codes[:3] != [429] * 3 and codes[3:] == [429, 429]


@pytest.mark.django_db
def test_community_sign_in_links_are_limited(limits, client):
    codes = burst(lambda: client.post("/community/login/", {"email": "kunde@example.org"}), 3)
    assert codes[:2] == [200, 200] and codes[2] == 429


@pytest.mark.django_db
def test_contact_form_is_limited_per_address_and_form(limits, form_channel):
    client = Client(REMOTE_ADDR="10.2.0.1")
    url = f"/contact/{form_channel.slug}/"
    def send(i=[0]):  # noqa: B006 - a counter across calls
        i[0] += 1
        return client.post(url, {"name": "Eva", "email": "eva@example.org", "message": "Hallo", "token": f"t{i[0]}"})
    assert burst(send, 4) == [200, 200, 200, 429]
    assert Client(REMOTE_ADDR="10.2.0.2").get(url).status_code == 200


@pytest.mark.django_db
def test_survey_answers_are_limited(limits, client):
    codes = burst(lambda: client.post("/survey/not-a-token/", {"rating": "5"}), 6)
    assert codes == [404] * 4 + [429] * 2


@pytest.mark.django_db
def test_webhook_pushes_are_limited_per_address_and_channel(limits):
    channel = create_channel(kind="webhook", name="Shop hook")
    client = Client(REMOTE_ADDR="10.3.0.1")
    codes = burst(lambda: client.post(f"/hooks/{channel.slug}/", data="{}", content_type="application/json"), 7)
    assert 429 not in codes[:5] and codes[5:] == [429, 429]
    refused = client.post(f"/hooks/{channel.slug}/", data="{}", content_type="application/json")
    assert refused.json()["error"] == "rate_limited" and refused["Retry-After"]
    # the limit of one channel does not block another channel
    other = create_channel(kind="webhook", name="Other hook")
    assert client.post(f"/hooks/{other.slug}/", data="{}", content_type="application/json").status_code != 429


@pytest.mark.django_db
def test_accepted_webhook_pushes_are_never_counted(limits):
    """A platform's signed pushes are authenticated: hundreds a second cost no counter write each and are never
    cut; only refused requests count towards the limit."""
    from resonanz.connectors.drivers.webhook import sign

    channel = create_channel(kind="webhook", name="Signed hook", credentials={"secret": "k"},
                             settings={"mapping": {"external_id": "id", "sender": "from", "text": "text"}})
    client = Client(REMOTE_ADDR="10.3.0.2")

    def signed(n):
        body = json.dumps({"id": f"p{n}", "from": "kim@example.com", "text": "Hallo"}).encode()
        stamp = str(int(time.time()))
        return client.post(f"/hooks/{channel.slug}/", data=body, content_type="application/json",
                           HTTP_X_RESONANZ_TIMESTAMP=stamp, HTTP_X_RESONANZ_SIGNATURE=sign("k", stamp, body))

    assert [signed(n).status_code for n in range(8)] == [201] * 8
    assert not RateCounter.objects.exists()
    forged = burst(lambda: client.post(f"/hooks/{channel.slug}/", data="{}", content_type="application/json"), 7)
    assert forged == [401] * 5 + [429] * 2
    assert signed(99).status_code == 429  # the window's limit is reached for this address and channel


@pytest.mark.django_db
def test_password_reset_is_limited(limits, client, agent_user):
    codes = burst(lambda: client.post("/accounts/forgot/", {"email": "berta@example.com"}), 3)
    assert codes == [302, 302, 429]


@pytest.mark.django_db
def test_token_endpoint_is_limited(limits, agent_user):
    client = APIClient(REMOTE_ADDR="10.4.0.1")
    creds = {"username": "berta@example.com", "password": "pw-agent-123"}
    codes = burst(lambda: client.post("/api/auth/token/", creds, format="json"), 4)
    assert codes == [200, 200, 200, 429]


@pytest.mark.django_db
def test_chat_endpoints_share_the_database_counter(limits, settings):
    from tests.chat.conftest import SITE

    channel = create_channel(kind="chat", name="Chat", settings={"allowed_origins": [SITE]})
    client = Client(REMOTE_ADDR="10.5.0.1")
    def start():
        return client.post(f"/chat/{channel.slug}/session/", data=json.dumps({}), content_type="application/json",
                           HTTP_ORIGIN=SITE)
    codes = burst(start, 5)
    assert codes[:4] == [200] * 4 and codes[4] == 429
    assert RateCounter.objects.filter(key__startswith="chat_ip:").exists()


@pytest.mark.django_db
def test_a_limit_of_zero_switches_it_off(settings, client):
    settings.RESONANZ_RATE_LIMITS = {**settings.RESONANZ_RATE_LIMITS, "help_search": "0/60"}
    assert set(burst(lambda: client.get("/help/de/search/", {"q": "x"}), 40)) == {200}


def test_a_mistyped_setting_stops_the_start(monkeypatch):
    import importlib

    from django.core.exceptions import ImproperlyConfigured

    import resonanz.settings as module

    monkeypatch.setenv("RESONANZ_RATE_LIMITS", "help_search=lots")
    with pytest.raises(ImproperlyConfigured, match="help_search=lots"):
        importlib.reload(module)
    monkeypatch.delenv("RESONANZ_RATE_LIMITS")
    importlib.reload(module)


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_from_several_connections_stop_at_exactly_the_limit(settings):
    """Each thread has its own database connection, as each web process has: the atomic upsert counts them all."""
    if connection.vendor == "sqlite" and connection.settings_dict["NAME"].startswith("file:memorydb"):
        pytest.skip("an in-memory SQLite database is private to one connection")
    settings.RESONANZ_RATE_LIMITS = {**settings.RESONANZ_RATE_LIMITS, "webhook": "25/600"}
    allowed, refused, errors = [], [], []
    barrier = threading.Barrier(8)

    def worker():
        from django.db import connection as conn

        try:
            barrier.wait()
            for _ in range(10):
                try:
                    ratelimit.hit("webhook", "10.6.0.1")
                    allowed.append(1)
                except ratelimit.RateLimited:
                    refused.append(1)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            conn.close()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert len(allowed) == 25 and len(refused) == 55
    assert RateCounter.objects.get(key__startswith="webhook:10.6.0.1:").count == 80


@pytest.mark.django_db
def test_behind_a_proxy_each_client_is_counted_not_the_proxy(limits, settings):
    settings.RESONANZ_BEHIND_PROXY, settings.RESONANZ_PROXY_COUNT = True, 1
    proxy = Client(REMOTE_ADDR="10.7.0.1")

    def search(client_ip, claimed=""):
        # the proxy appends the address it saw; whatever the client sent itself stays to the left
        return proxy.get("/help/de/search/", {"q": "x"}, HTTP_X_FORWARDED_FOR=f"{claimed}{client_ip}")
    assert burst(lambda: search("203.0.113.5"), 6)[-1] == 429
    assert search("203.0.113.6").status_code == 200  # another customer behind the same proxy
    # a client cannot escape its count by claiming another address
    assert search("203.0.113.5", claimed="198.51.100.1, ").status_code == 429


@pytest.mark.django_db
def test_behind_a_proxy_the_sign_in_lockout_counts_the_client_too(settings, agent_user):
    """django-ipware is not installed, so axes alone would lock the proxy's address, that is everyone."""
    settings.RESONANZ_BEHIND_PROXY, settings.AXES_FAILURE_LIMIT = True, 2
    proxy = Client(REMOTE_ADDR="10.8.0.1")
    for name in ("a@example.com", "b@example.com"):
        proxy.post("/accounts/login/", {"username": name, "password": "wrong"}, HTTP_X_FORWARDED_FOR="203.0.113.9")
    locked = proxy.post("/accounts/login/", {"username": "c@example.com", "password": "wrong"},
                        HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert locked.status_code == 429
    other = proxy.post("/accounts/login/", {"username": "berta@example.com", "password": "pw-agent-123"},
                       HTTP_X_FORWARDED_FOR="203.0.113.10")
    assert other.status_code == 302
