"""Comments on the Facebook page's posts and on Instagram media: public conversations, answered in the thread or
privately, hidden or deleted from the conversation; against the local Graph API server's documented shapes."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from resonanz.connectors.actions import check_channel
from resonanz.connectors.models import Channel
from resonanz.core.errors import ActionError
from resonanz.inbox.actions import moderate_comment, send_reply
from resonanz.inbox.delivery import deliver
from resonanz.inbox.models import Conversation, ConversationEvent, Message
from tests.support.messenger.server import IG_ID, MEDIA_ID, PAGE_ID, POST_ID

pytestmark = pytest.mark.django_db


def post(channel, server, payload, *, signature=None):
    body = json.dumps(payload).encode()
    return Client().post(f"/hooks/{channel.slug}/", data=body, content_type="application/json",
                         HTTP_X_HUB_SIGNATURE_256=signature or server.sign(body))


def test_a_page_comment_becomes_a_public_conversation_with_its_post_once(fb_channel, messenger):
    payload = messenger.comment("page", comment_id=f"{POST_ID}_111", text="Euer Service ist <b>mies</b>!",
                                name="Kim Kundin")
    assert post(fb_channel, messenger, payload).json()["created"] == 1
    assert post(fb_channel, messenger, payload).json()["created"] == 0  # re-delivered
    message = Message.objects.get()
    assert message.is_public and message.external_id == f"{POST_ID}_111"
    assert message.text == "Euer Service ist <b>mies</b>!" and "<b>" not in message.html
    assert message.author_contact.name == "Kim Kundin"
    assert message.author_contact.identities.get().kind == "facebook"
    info = message.meta["meta"]
    assert info["post_id"] == f"{PAGE_ID}_{POST_ID}" and info["post_text"] == "Unser neues Trekkingrad ist da!"
    assert info["post_link"].endswith(f"/posts/{POST_ID}")


def test_unsigned_comment_is_refused_and_the_pages_own_comment_is_not_news(fb_channel, messenger):
    payload = messenger.comment("page", text="Hallo")
    assert post(fb_channel, messenger, payload, signature="sha256=00").status_code == 401
    own = messenger.comment("page", sender=PAGE_ID, text="Danke!")
    assert post(fb_channel, messenger, own).json()["created"] == 0
    assert not Message.objects.exists()


def test_public_answer_goes_into_the_comment_thread_and_a_follow_up_joins_the_conversation(
        fb_channel, messenger, agent_user):
    post(fb_channel, messenger, messenger.comment("page", comment_id=f"{POST_ID}_222", text="Wann kommt Größe L?"))
    conversation = Conversation.objects.get()
    reply = deliver(send_reply(conversation, agent_user, "Nächste Woche!"))
    assert reply.is_public and reply.delivery_status == "sent"
    assert messenger.comments[f"{POST_ID}_222"]["replies"] == ["Nächste Woche!"]
    assert reply.external_id.startswith(f"{POST_ID}_222_r")
    follow = messenger.comment("page", comment_id=f"{POST_ID}_223", text="Danke!", parent_id=f"{POST_ID}_222")
    post(fb_channel, messenger, follow)
    assert Conversation.objects.count() == 1 and conversation.messages.count() == 3
    later = deliver(send_reply(conversation, agent_user, "Gern!"))
    # Facebook threads have one level: the answer goes under the first comment of the thread
    assert later.delivery_status == "sent" and messenger.comments[f"{POST_ID}_222"]["replies"][-1] == "Gern!"


def test_private_reply_to_a_comment_is_a_direct_message_once(fb_channel, messenger, agent_user):
    post(fb_channel, messenger, messenger.comment("page", comment_id=f"{POST_ID}_333", text="Meine Bestellnummer?"))
    conversation = Conversation.objects.get()
    reply = deliver(send_reply(conversation, agent_user, "Ich schreibe Ihnen privat.", is_public=False))
    assert reply.delivery_status == "sent" and not reply.is_public
    assert messenger.sent[-1]["recipient"] == {"comment_id": f"{POST_ID}_333"}
    assert messenger.sent[-1]["_account"] == PAGE_ID
    again = deliver(send_reply(conversation, agent_user, "Noch einmal privat.", is_public=False))
    assert again.delivery_status == "failed" and "already replied" in again.delivery_detail


def test_instagram_comment_answer_and_moderation(fb_channel, messenger, agent_user):
    payload = messenger.comment("instagram", comment_id="17900000000000042", sender="556677",
                                name="radfan", text="Schöne Farbe!")
    assert post(fb_channel, messenger, payload).json()["created"] == 1
    message = Message.objects.get()
    assert message.author_contact.identities.get().kind == "instagram" and message.is_public
    assert message.meta["meta"]["post_id"] == MEDIA_ID and message.meta["meta"]["post_text"] == "Frühlingskollektion"
    reply = deliver(send_reply(message.conversation, agent_user, "Danke dir!"))
    assert reply.delivery_status == "sent" and messenger.comments["17900000000000042"]["replies"] == ["Danke dir!"]
    moderate_comment(message, agent_user, "hide")
    assert messenger.comments["17900000000000042"]["hidden"]
    assert Message.objects.get(pk=message.pk).meta["moderation"]["hidden"] is True
    private = deliver(send_reply(message.conversation, agent_user, "Per DM", is_public=False))
    assert private.delivery_status == "sent" and messenger.sent[-1]["_account"] == IG_ID


def test_hide_show_and_delete_are_done_on_the_platform_and_logged(fb_channel, messenger, agent_user):
    post(fb_channel, messenger, messenger.comment("page", comment_id=f"{POST_ID}_444", text="Spam spam"))
    message = Message.objects.get()
    moderate_comment(message, agent_user, "hide")
    assert messenger.comments[f"{POST_ID}_444"]["hidden"]
    moderate_comment(Message.objects.get(), agent_user, "unhide")
    assert not messenger.comments[f"{POST_ID}_444"]["hidden"]
    moderate_comment(Message.objects.get(), agent_user, "delete")
    assert messenger.comments[f"{POST_ID}_444"]["deleted"]
    stored = Message.objects.get()
    assert stored.text == "Spam spam" and stored.meta["moderation"]["deleted_at"]  # kept in Resonanz
    kinds = list(ConversationEvent.objects.filter(kind__startswith="comment_").values_list("kind", "actor"))
    assert kinds == [("comment_hidden", agent_user.pk), ("comment_shown", agent_user.pk),
                     ("comment_deleted", agent_user.pk)]
    with pytest.raises(ActionError, match="already deleted"):
        moderate_comment(stored, agent_user, "hide")


def test_moderation_failure_on_the_platform_changes_nothing(fb_channel, messenger, agent_user):
    post(fb_channel, messenger, messenger.comment("page", comment_id=f"{POST_ID}_555", text="Hm"))
    message = Message.objects.get()
    messenger.revoke()
    with pytest.raises(ActionError, match="page token"):
        moderate_comment(message, agent_user, "delete")
    assert not messenger.comments[f"{POST_ID}_555"]["deleted"]
    assert "moderation" not in Message.objects.get().meta
    assert not ConversationEvent.objects.filter(kind__startswith="comment_").exists()


def test_direct_messages_cannot_be_moderated_and_stay_private(fb_channel, messenger, agent_user):
    import time
    post(fb_channel, messenger, messenger.notification("page_message", timestamp=int(time.time() * 1000)))
    message = Message.objects.get()
    with pytest.raises(ActionError, match="public comments"):
        moderate_comment(message, agent_user, "hide")
    reply = send_reply(message.conversation, agent_user, "Hallo")
    assert not reply.is_public


def test_edited_and_removed_comments_are_marked(fb_channel, messenger):
    post(fb_channel, messenger, messenger.comment("page", comment_id=f"{POST_ID}_666", text="Erst so"))
    post(fb_channel, messenger, messenger.comment("page", comment_id=f"{POST_ID}_666", text="Dann so", verb="edited"))
    assert Message.objects.get().text == "Dann so"
    post(fb_channel, messenger, messenger.comment("page", comment_id=f"{POST_ID}_666", verb="remove"))
    assert Message.objects.get().meta["deleted_at"]


def test_desk_buttons_hide_and_delete(fb_channel, messenger, agent_user):
    post(fb_channel, messenger, messenger.comment("page", comment_id=f"{POST_ID}_777", text="Blöder Laden"))
    message = Message.objects.get()
    client = Client()
    client.force_login(agent_user)
    page = client.get(f"/inbox/conversations/{message.conversation_id}/").content.decode()
    assert "Kommentar ausblenden" in page and "Kommentar zum Beitrag der Seite" in page
    response = client.post(f"/inbox/messages/{message.pk}/moderate/", {"action": "hide"})
    assert response.status_code == 302 and messenger.comments[f"{POST_ID}_777"]["hidden"]
    assert client.post(f"/inbox/messages/{message.pk}/moderate/", {"action": "nuke"}).status_code == 302
    assert not messenger.comments[f"{POST_ID}_777"]["deleted"]


def test_api_moderates_a_comment_and_refuses_bad_actions(fb_channel, messenger, api):
    post(fb_channel, messenger, messenger.comment("page", comment_id=f"{POST_ID}_888", text="Werbung!!"))
    message = Message.objects.get()
    bad = api.post(f"/api/messages/{message.pk}/moderate/", {"action": "nuke"}, format="json")
    assert bad.status_code == 400 and "action" in bad.json()
    done = api.post(f"/api/messages/{message.pk}/moderate/", {"action": "delete", "reason": "Spam"}, format="json")
    assert done.status_code == 200 and messenger.comments[f"{POST_ID}_888"]["deleted"]
    assert ConversationEvent.objects.get(kind="comment_deleted").reason == "Spam"
    again = api.post(f"/api/messages/{message.pk}/moderate/", {"action": "hide"}, format="json")
    assert again.status_code == 400 and "already deleted" in str(again.json())


def test_a_persons_comments_and_direct_messages_are_separate_conversations(fb_channel, messenger):
    """Instagram names a person by the same scoped id in comments and direct messages: one contact, but the
    comment is a public conversation and the direct message a private one, whichever comes first."""
    import time
    person = "17841400000000099"
    post(fb_channel, messenger, messenger.notification("instagram_message", sender=person, text="Privat: Größe?",
                                                       timestamp=int(time.time() * 1000)))
    post(fb_channel, messenger, messenger.comment("instagram", comment_id="17900000000000501", sender=person,
                                                  name="radfan", text="Öffentlich: schöne Farbe!"))
    dm, comment = Message.objects.order_by("id")
    assert dm.author_contact_id == comment.author_contact_id
    assert dm.conversation_id != comment.conversation_id
    assert comment.conversation.is_public and not dm.conversation.is_public
    post(fb_channel, messenger, messenger.comment("instagram", comment_id="17900000000000502", sender=person,
                                                  name="radfan", text="Und noch ein Kommentar"))
    post(fb_channel, messenger, messenger.notification("instagram_message", sender=person, mid="m_second",
                                                       text="Und privat", timestamp=int(time.time() * 1000)))
    assert Message.objects.get(external_id="17900000000000502").conversation_id == comment.conversation_id
    assert Message.objects.get(external_id="m_second").conversation_id == dm.conversation_id


def test_private_reply_goes_to_the_private_conversation_which_the_answer_joins(fb_channel, messenger, agent_user):
    """As on Facebook: the private reply to a comment opens the Messenger chat with the commenter, and their
    answer arrives there, from the page-scoped id the Send API named, not in the comment's thread."""
    import time
    post(fb_channel, messenger, messenger.comment("page", comment_id=f"{POST_ID}_901", text="Bestellung kaputt!"))
    public = Conversation.objects.get()
    reply = deliver(send_reply(public, agent_user, "Wir melden uns privat.", is_public=False))
    assert reply.delivery_status == "sent" and messenger.sent[-1]["recipient"] == {"comment_id": f"{POST_ID}_901"}
    private = reply.conversation
    assert private.pk != public.pk and not private.is_public and private.contact_id == public.contact_id
    assert list(public.messages.values_list("direction", flat=True)) == ["inbound"]
    public.refresh_from_db()
    assert not public.waiting_for_us and public.first_response_at is not None
    event = ConversationEvent.objects.get(conversation=public, kind="private_reply_sent")
    assert event.data == {"into": private.pk, "message_id": reply.pk}
    assert ConversationEvent.objects.filter(conversation=private, kind="private_reply_from").exists()
    # the customer answers in Messenger, from the id the Send API answered with
    answer = messenger.notification("page_message", sender="1254477777772919", mid="m_answer", text="Danke!",
                                    timestamp=int(time.time() * 1000))
    assert post(fb_channel, messenger, answer).json()["created"] == 1
    assert Message.objects.get(external_id="m_answer").conversation_id == private.pk
    follow = deliver(send_reply(Conversation.objects.get(pk=private.pk), agent_user, "Gern geschehen."))
    assert follow.delivery_status == "sent" and messenger.sent[-1]["recipient"] == {"id": "1254477777772919"}
    assert Conversation.objects.count() == 2


def test_private_reply_joins_an_open_direct_message_conversation(fb_channel, messenger, agent_user):
    import time
    person = "17841400000000077"
    post(fb_channel, messenger, messenger.notification("instagram_message", sender=person, text="Hallo privat",
                                                       timestamp=int(time.time() * 1000)))
    post(fb_channel, messenger, messenger.comment("instagram", comment_id="17900000000000601", sender=person,
                                                  name="radfan", text="Hallo öffentlich"))
    private = Message.objects.get(direction="inbound", is_public=False).conversation
    public = Message.objects.get(external_id="17900000000000601").conversation
    reply = deliver(send_reply(public, agent_user, "Antwort per DM", is_public=False))
    assert reply.conversation_id == private.pk and reply.delivery_status == "sent"
    assert messenger.sent[-1]["recipient"] == {"comment_id": "17900000000000601"}
    assert Conversation.objects.count() == 2


def test_desk_says_where_a_private_reply_went(fb_channel, messenger, agent_user):
    post(fb_channel, messenger, messenger.comment("page", comment_id=f"{POST_ID}_902", text="Hallo?"))
    public = Conversation.objects.get()
    client = Client()
    client.force_login(agent_user)
    response = client.post(f"/inbox/conversations/{public.pk}/reply/", {"text": "Per DM", "private": "on"},
                           follow=True)
    private = Conversation.objects.exclude(pk=public.pk).get()
    page = response.content.decode()
    assert f"RZ-{private.pk}" in page and "Privat gesendet" in page
    assert "privat in den Direktnachrichten beantwortet" in page


def test_a_private_reply_is_not_asked_for_the_public_signature(fb_channel, messenger, agent_user):
    from resonanz.automation.approval import check_reply

    post(fb_channel, messenger, messenger.comment("page", comment_id=f"{POST_ID}_903", text="Hallo?"))
    public = Conversation.objects.get()
    codes = {w["code"] for w in check_reply(public, agent_user, "Ohne Kürzel", is_public=False)}
    assert "signature" not in codes
    assert "signature" in {w["code"] for w in check_reply(public, agent_user, "Ohne Kürzel")}


def test_a_token_refused_while_reading_the_post_marks_the_channel_and_keeps_the_comment(fb_channel, messenger,
                                                                                        admin_user):
    """Meta answers the post's context with OAuthException 190 (expired or revoked): the comment is stored all the
    same, and the channel's page says the token was refused and what to do, until a request works again."""
    assert check_channel(fb_channel)[0]
    messenger.revoke()
    answer = post(fb_channel, messenger, messenger.comment("page", comment_id=f"{POST_ID}_31", text="Gibt es Rot?"))
    assert answer.status_code == 200 and answer.json()["created"] == 1
    message = Message.objects.get()
    assert message.text == "Gibt es Rot?" and message.conversation.is_public and not message.meta.get("post", {}).get("text")
    channel = Channel.objects.get(pk=fb_channel.pk)
    assert not channel.healthy and "page token refused" in channel.last_error
    admin = Client()
    admin.force_login(admin_user)
    page = admin.get(f"/inbox/settings/channels/{channel.pk}/").content.decode()
    assert "page token refused" in page and "Create a new page token" in page
    messenger.revoked = False  # the administrator saved a new token: the next comment shows its post again
    post(fb_channel, messenger, messenger.comment("page", comment_id=f"{POST_ID}_32", text="Und Blau?"))
    assert Channel.objects.get(pk=fb_channel.pk).healthy
    assert Message.objects.get(external_id=f"{POST_ID}_32").meta["post"]["text"] == "Unser neues Trekkingrad ist da!"
