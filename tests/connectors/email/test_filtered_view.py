"""The filtered view: machine-generated mail is stored, never answered, kept out of the inbox with its
reason, opened by agents, released by a person's message, an agent or a rule."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from resonanz.connectors.tasks import poll_channel
from resonanz.inbox.models import Conversation, ConversationEvent, Message
from resonanz.inbox.queries import filter_conversations

from . import samples

pytestmark = [pytest.mark.django_db,
              pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")]


def monitoring_notice(n: int = 1, subject: str = "Incident: disk /var at 97 % on db-2") -> bytes:
    return samples.raw(
        f"From: Monitoring <alerts@monitoring.kunde.example>\nTo: support@resonanz.example\n"
        f"Subject: {subject}\nMessage-ID: <alert-{n}@monitoring.kunde.example>\n"
        "Date: Mon, 03 Mar 2025 10:00:00 +0100\nAuto-Submitted: auto-generated\nReturn-Path: <>\n"
        "Content-Type: text/plain; charset=utf-8\n\nThe disk of db-2 is almost full. Please act."
    )


def _inbox(**params):
    return list(filter_conversations(Conversation.objects.all(), params, None))


def test_machine_mail_waits_in_the_filtered_view_with_its_reason(email_channel, mailbox, client, agent_user):
    for raw in (samples.plain(), monitoring_notice(), samples.mailing_list(), samples.auto_reply()):
        mailbox.append(raw)
    assert poll_channel(email_channel) == 4
    assert Message.objects.count() == 4  # every mail is stored
    inbox = _inbox()
    assert [c.subject for c in inbox] == ["Bestellung 4711 fehlt"]
    # the customer's own auto-reply joins her open conversation, which stays in the inbox
    assert Message.objects.get(subject="Abwesenheitsnotiz: Re: Bestellung").conversation == inbox[0]
    filtered = {c.subject: c for c in _inbox(filtered="only")}
    assert set(filtered) == {"Incident: disk /var at 97 % on db-2", "Newsletter März"}
    notice = filtered["Incident: disk /var at 97 % on db-2"]
    assert (notice.filtered, notice.filtered_reason) == ("auto_generated", "Auto-Submitted: auto-generated")
    assert filtered["Newsletter März"].filtered == "list"
    assert not any(c.waiting_for_us for c in filtered.values())
    assert [c.subject for c in _inbox(filtered="list")] == ["Newsletter März"]
    assert len(_inbox(filtered="all")) == 3
    event = ConversationEvent.objects.get(conversation=notice, kind="filtered")
    assert event.reason == "Auto-Submitted: auto-generated" and event.data["new"] == "auto_generated"
    assert not Message.objects.filter(direction="outbound").exists()  # nothing answered them

    client.force_login(agent_user)  # Berta works in German
    page = client.get(reverse("inbox:index")).content.decode()
    assert 'data-count="filtered">2<' in page and "Gefiltert" in page
    assert "Incident: disk" not in page
    view = client.get(reverse("inbox:index") + "?filtered=only").content.decode()
    assert "Incident: disk /var" in view and "Auto-Submitted: auto-generated" in view and "Automatische Meldung" in view
    assert "Bestellung 4711 fehlt" not in view
    opened = client.get(reverse("inbox:conversation", args=[notice.pk])).content.decode()
    assert 'id="filtered-notice"' in opened and "In den Posteingang verschieben" in opened
    assert "Maschinell erzeugt" in opened

    response = client.post(reverse("inbox:set_filtered", args=[notice.pk]))
    assert response.status_code == 302
    notice.refresh_from_db()
    assert notice.filtered == "" and notice.waiting_for_us
    released = ConversationEvent.objects.get(conversation=notice, kind="unfiltered")
    assert released.actor == agent_user and released.data["old"] == "auto_generated"
    assert {c.subject for c in _inbox()} == {"Bestellung 4711 fehlt", "Incident: disk /var at 97 % on db-2"}
    # and an agent can put a newsletter that slipped through back by hand
    order = Conversation.objects.get(subject="Bestellung 4711 fehlt")
    client.post(reverse("inbox:set_filtered", args=[order.pk]), {"to": "filtered"})
    order.refresh_from_db()
    assert order.filtered == "manual" and not order.waiting_for_us


def test_an_unknown_sender_is_named_in_the_readers_language(email_channel, mailbox):
    mailbox.append(samples.no_headers())
    assert poll_channel(email_channel) == 1
    contact = Message.objects.get().author_contact
    assert contact.name == ""
    with translation.override("de"):
        assert str(contact) == "Unbekannter Absender"
    with translation.override("en"):
        assert str(contact) == "Unknown sender"
