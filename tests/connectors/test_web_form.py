"""The public contact form of a web-form channel."""

from __future__ import annotations

import pytest

from resonanz.inbox.models import Message

pytestmark = pytest.mark.django_db


def _token(client, url):
    page = client.get(url).content.decode()
    start = page.index('name="token" value="') + len('name="token" value="')
    return page[start:page.index('"', start)]


def test_form_submission_is_ingested_once(client, form_channel):
    url = f"/contact/{form_channel.slug}/"
    data = {"name": "Erika", "email": "erika@example.com", "subject": "Kündigung",
            "message": "Ich möchte kündigen.", "token": _token(client, url), "website": "", "consent": "on"}
    assert client.post(url, data).status_code == 200
    assert client.post(url, data).status_code == 200  # resent form: stored once
    message = Message.objects.get()
    assert message.text == "Ich möchte kündigen." and message.conversation.subject == "Kündigung"
    assert message.author_contact.identities.get().handle == "erika@example.com"


def test_missing_fields_show_form_again_and_keep_input(client, form_channel):
    url = f"/contact/{form_channel.slug}/"
    response = client.post(url, {"name": "Erika", "email": "not-an-email", "message": "",
                                 "token": _token(client, url)})
    page = response.content.decode()
    assert response.status_code == 200 and 'value="Erika"' in page and "not-an-email" in page
    assert page.count('class="error"') >= 2
    assert Message.objects.count() == 0


def test_honeypot_is_silently_dropped(client, form_channel):
    url = f"/contact/{form_channel.slug}/"
    client.post(url, {"name": "Bot", "email": "bot@example.com", "message": "spam", "token": "t1",
                      "website": "http://spam"})
    assert Message.objects.count() == 0


def test_unknown_or_disabled_form_is_404(client, form_channel, api_channel):
    assert client.get("/contact/nope/").status_code == 404
    assert client.get(f"/contact/{api_channel.slug}/").status_code == 404
    form_channel.enabled = False
    form_channel.save()
    assert client.get(f"/contact/{form_channel.slug}/").status_code == 404


def test_a_form_sent_at_once_is_refused_and_keeps_the_text(client, form_channel, settings):
    """Bots post the moment they get the page; a person needs seconds. Nothing is stored, the text stays."""
    import time

    settings.RESONANZ_FORM_MIN_SECONDS = 60  # "at once" even on a loaded machine
    url = f"/contact/{form_channel.slug}/"
    data = {"name": "Eva", "email": "eva@example.com", "subject": "", "message": "Wo bleibt meine Bestellung?",
            "website": "", "consent": "on", "token": _token(client, url)}
    page = client.post(url, data, HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert Message.objects.count() == 0
    assert "Das ging sehr schnell" in page and "Wo bleibt meine Bestellung?" in page
    fresh = page[page.index('name="token" value="') + len('name="token" value="'):].split('"', 1)[0]
    assert fresh != data["token"]
    settings.RESONANZ_FORM_MIN_SECONDS = 1
    time.sleep(1.1)
    client.post(url, {**data, "token": fresh})
    assert Message.objects.get().text == "Wo bleibt meine Bestellung?"


def test_a_forged_or_stale_token_is_refused(client, form_channel, settings):
    from datetime import timedelta

    from resonanz.portal import contact

    url = f"/contact/{form_channel.slug}/"
    data = {"name": "Eva", "email": "eva@example.com", "message": "Hallo", "website": "", "consent": "on"}
    assert "could not be checked" in client.post(url, {**data, "token": "abc"}).content.decode()
    stale = contact.SIGNER.sign("x")
    settings.RESONANZ_FORM_MIN_SECONDS = 0
    original = contact.MAX_AGE
    contact.MAX_AGE = timedelta(seconds=-1)
    try:
        assert "more than a day" in client.post(url, {**data, "token": stale}).content.decode()
    finally:
        contact.MAX_AGE = original
    assert Message.objects.count() == 0


def test_consent_is_required_and_the_customer_gets_a_ticket_number(client, form_channel, settings):
    settings.RESONANZ_PRIVACY_URL = "https://shop.example/datenschutz"
    url = f"/contact/{form_channel.slug}/"
    form = client.get(url, HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert form_channel.name not in form  # the channel's internal name stays internal
    assert "Ich bin einverstanden" in form and 'href="https://shop.example/datenschutz"' in form
    data = {"name": "Eva", "email": "eva@example.com", "message": "Wo bleibt mein Paket?", "website": "",
            "token": _token(client, url)}
    refused = client.post(url, data, HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Bitte stimmen Sie zu" in refused and "Wo bleibt mein Paket?" in refused
    assert Message.objects.count() == 0
    thanks = client.post(url, {**data, "consent": "on"}, HTTP_ACCEPT_LANGUAGE="de").content.decode()
    message = Message.objects.get()
    assert f"Ihre Ticketnummer ist <strong>RZ-{message.conversation_id}</strong>" in thanks
    assert message.meta.get("consent") is True
