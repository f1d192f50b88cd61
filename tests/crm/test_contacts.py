"""Contacts: one memory per customer, timeline, merge."""

from __future__ import annotations

import pytest
from django.test import Client

from resonanz.core.errors import ActionError
from resonanz.crm.actions import add_identity, merge_contacts
from resonanz.crm.models import Contact, Identity
from resonanz.inbox.actions import ingest
from resonanz.inbox.models import ConversationEvent
from tests.conftest import inbound

pytestmark = pytest.mark.django_db


def test_email_through_api_and_form_is_one_contact(api_channel, form_channel):
    a = ingest(api_channel, inbound("1", "Anna@Example.com"))
    b = ingest(form_channel, inbound("2", "anna@example.com"))
    assert a.contact_id == b.contact_id
    assert a.conversation.pk != b.conversation.pk  # one conversation per channel


def test_merge_moves_everything_and_records_it(api_channel, form_channel, admin_user):
    keep = ingest(api_channel, inbound("1", "anna@example.com", sender_name="Anna")).conversation.contact
    drop_result = ingest(form_channel, inbound("2", "anna.privat@example.com", sender_name="A. Muster"))
    drop = drop_result.conversation.contact
    drop.preferred_language = "de"
    drop.save()
    merged = merge_contacts(keep, drop, actor=admin_user)
    assert not Contact.objects.filter(pk=drop.pk).exists()
    assert sorted(Identity.objects.filter(contact=merged).values_list("handle", flat=True)) == [
        "anna.privat@example.com", "anna@example.com"]
    assert merged.conversations.count() == 2 and merged.preferred_language == "de"
    event = ConversationEvent.objects.get(conversation=drop_result.conversation, kind="contact_merged")
    assert event.actor == admin_user and str(drop.pk) in event.reason
    # the next message from the dropped address lands with the kept contact
    later = ingest(form_channel, inbound("3", "anna.privat@example.com"))
    assert later.contact_id == merged.pk


def test_merge_with_itself_is_refused(api_channel):
    contact = ingest(api_channel, inbound("1")).conversation.contact
    with pytest.raises(ActionError):
        merge_contacts(contact, contact)


def test_identity_of_another_contact_is_refused(api_channel):
    a = ingest(api_channel, inbound("1", "a@example.com")).conversation.contact
    ingest(api_channel, inbound("2", "b@example.com"))
    with pytest.raises(ActionError, match="merge"):
        add_identity(a, "email", "B@example.com")


def test_contact_pages_timeline_edit_merge(agent_user, supervisor_user, api_channel, form_channel):
    client = Client()
    client.login(username="berta@example.com", password="pw-agent-123")
    keep = ingest(api_channel, inbound("1", "anna@example.com", text="Erste Nachricht über API")).contact_id
    drop = ingest(form_channel, inbound("2", "anna2@example.com", text="Zweite über das Formular")).contact_id
    assert "anna@example.com" in client.get("/contacts/?q=anna@").content.decode()
    # An agent sees no merge form and cannot merge; a supervisor can.
    assert "Merge a duplicate" not in client.get(f"/contacts/{keep}/").content.decode()
    assert client.post(f"/contacts/{keep}/merge/", {"other": drop}).status_code == 403
    client.force_login(supervisor_user)
    assert "Merge a duplicate" in client.get(f"/contacts/{keep}/").content.decode()
    response = client.post(f"/contacts/{keep}/merge/", {"other": drop}, follow=True)
    page = response.content.decode()
    assert "Erste Nachricht" in page and "Zweite über das Formular" in page
    response = client.post(f"/contacts/{keep}/edit/", {"name": "Anna Muster", "lifecycle_stage": "customer",
                                                       "preferred_language": "de", "tags": "vip"})
    assert response.status_code == 302
    contact = Contact.objects.get(pk=keep)
    assert contact.name == "Anna Muster" and contact.lifecycle_stage == "customer"
    assert list(contact.tags.values_list("name", flat=True)) == ["vip"]
    missing = client.post(f"/contacts/{keep}/merge/", {"other": 999999}, follow=True).content.decode()
    assert "999999" in missing
