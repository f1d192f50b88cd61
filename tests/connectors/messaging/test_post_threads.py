"""One public conversation per person, channel and post (or reply chain): comments under two posts are two
conversations, under one post one, whatever order they arrive in; direct messages stay in the private one; a
public answer goes into the thread of its conversation. Against the local Graph API and X API servers."""

from __future__ import annotations

import json

import pytest
from django.core.cache import cache
from django.test import Client

from resonanz.inbox.actions import send_reply
from resonanz.inbox.delivery import deliver
from resonanz.inbox.models import Conversation, Message
from tests.support.messenger.server import PAGE_ID, POST_ID
from tests.support.x.server import documented

pytestmark = pytest.mark.django_db


def meta_post(channel, server, payload) -> dict:
    body = json.dumps(payload).encode()
    response = Client().post(f"/hooks/{channel.slug}/", data=body, content_type="application/json",
                             HTTP_X_HUB_SIGNATURE_256=server.sign(body))
    assert response.status_code == 200, response.content
    return response.json()


def x_post(channel, server, payload) -> dict:
    body = json.dumps(payload).encode()
    response = Client().post(f"/hooks/{channel.slug}/", data=body, content_type="application/json",
                             HTTP_X_TWITTER_WEBHOOKS_SIGNATURE=server.sign(body))
    assert response.status_code == 200, response.content
    return response.json()


def conversation_of(external_id: str) -> Conversation:
    return Message.objects.get(external_id=external_id).conversation


# --- Facebook and Instagram ---------------------------------------------------------------------------------


def test_comments_under_two_posts_are_two_conversations_under_one_post_one(fb_channel, messenger):
    other = messenger.add_post("5550001", "Werkstatt-Termine im Mai")
    first = messenger.comment("page", comment_id=f"{POST_ID}_1", text="Gibt es das Rad in Rot?")
    second = messenger.comment("page", comment_id=f"{POST_ID}_2", text="Und in Blau?")
    answer = messenger.comment("page", comment_id=f"{POST_ID}_3", text="Ach, gefunden.", parent_id=f"{POST_ID}_1")
    elsewhere = messenger.comment("page", comment_id="5550001_1", text="Habt ihr am Samstag offen?",
                                  post_id="5550001")
    for payload in (first, second, answer, elsewhere):
        assert meta_post(fb_channel, messenger, payload)["created"] == 1
    for payload in (first, elsewhere):
        assert meta_post(fb_channel, messenger, payload)["created"] == 0  # re-delivered: nothing changes
    on_bike = conversation_of(f"{POST_ID}_1")
    assert conversation_of(f"{POST_ID}_2") == on_bike == conversation_of(f"{POST_ID}_3")
    on_workshop = conversation_of("5550001_1")
    assert on_workshop != on_bike and on_workshop.contact_id == on_bike.contact_id
    assert on_bike.is_public and on_workshop.is_public
    assert (on_bike.thread_key, on_workshop.thread_key) == (f"{PAGE_ID}_{POST_ID}", other)
    assert on_bike.message_count == 3 and on_workshop.message_count == 1
    # the post's context travels with the comment: text, link, picture
    context = Message.objects.get(external_id="5550001_1").meta["post"]
    assert context["text"] == "Werkstatt-Termine im Mai"
    assert context["link"] == f"https://www.facebook.com/{PAGE_ID}/posts/5550001"
    assert context["media"] == [{"url": "https://scontent.xx.fbcdn.net/v/t39.30808-6/5550001_n.jpg",
                                 "kind": "image"}]


def test_a_reply_arriving_before_its_parent_meets_it_and_a_direct_message_stays_private(fb_channel, messenger):
    reply = messenger.comment("page", comment_id=f"{POST_ID}_12", text="Noch eine Frage dazu", parent_id=f"{POST_ID}_11")
    parent = messenger.comment("page", comment_id=f"{POST_ID}_11", text="Wie lange dauert die Lieferung?")
    assert meta_post(fb_channel, messenger, reply)["created"] == 1
    assert meta_post(fb_channel, messenger, parent)["created"] == 1
    assert conversation_of(f"{POST_ID}_11") == conversation_of(f"{POST_ID}_12")
    direct = messenger.notification("page_message", sender="1181818181818181", mid="m_direct_1",
                                    text="Privat: meine Adresse ist …")
    assert meta_post(fb_channel, messenger, direct)["created"] == 1
    private = conversation_of("m_direct_1")
    assert not private.is_public and private.thread_key == ""
    assert private.contact_id == conversation_of(f"{POST_ID}_11").contact_id
    assert Conversation.objects.count() == 2


def test_a_public_answer_lands_in_the_thread_of_its_own_post(fb_channel, messenger, agent_user):
    messenger.add_post("5550002", "Neue Öffnungszeiten")
    meta_post(fb_channel, messenger, messenger.comment("page", comment_id=f"{POST_ID}_21", text="Preis?"))
    meta_post(fb_channel, messenger, messenger.comment("page", comment_id="5550002_21", text="Auch sonntags?",
                                                       post_id="5550002"))
    on_hours = conversation_of("5550002_21")
    on_bike = conversation_of(f"{POST_ID}_21")
    sent = deliver(send_reply(on_hours, agent_user, "Sonntags geschlossen."))
    assert sent.delivery_status == "sent" and sent.is_public
    assert messenger.comments["5550002_21"]["replies"] == ["Sonntags geschlossen."]
    assert messenger.comments[f"{POST_ID}_21"]["replies"] == []  # not under the other post's comment
    deliver(send_reply(on_bike, agent_user, "1.299 €"))
    assert messenger.comments[f"{POST_ID}_21"]["replies"] == ["1.299 €"]


def test_instagram_comments_on_two_media_are_two_conversations(fb_channel, messenger):
    meta_post(fb_channel, messenger, messenger.comment("instagram", comment_id="17900000000000101", sender="556677",
                                                       name="radfan", text="Schön!"))
    other = messenger.comment("instagram", comment_id="17900000000000102", sender="556677", name="radfan",
                              text="Und das hier?")
    other["entry"][0]["changes"][0]["value"]["media"]["id"] = "17895695668009999"
    meta_post(fb_channel, messenger, other)
    first, second = conversation_of("17900000000000101"), conversation_of("17900000000000102")
    assert first != second and first.contact_id == second.contact_id
    assert Message.objects.get(external_id="17900000000000101").meta["post"]["media"][0]["url"].endswith("_n.jpg")


# --- X ------------------------------------------------------------------------------------------------------


def test_replies_to_two_company_posts_are_two_conversations_with_the_post_as_context(x_channel, xapi):
    launch = xapi.add_tweet("Unser neues Trekkingrad ist da!", username="XDevelopers", user_id="2244994945")
    hours = xapi.add_tweet("Neue Öffnungszeiten ab Mai", username="XDevelopers", user_id="2244994945")
    on_launch = xapi.add_tweet("@XDevelopers Gibt es das in Rot?", in_reply_to=launch)
    again = xapi.add_tweet("@XDevelopers Und in Blau?", in_reply_to=launch)
    on_hours = xapi.add_tweet("@XDevelopers Auch sonntags?", in_reply_to=hours)
    for tweet in (on_launch, again, on_hours):
        assert x_post(x_channel, xapi, xapi.mention_event(tweet))["created"] == 1
    assert x_post(x_channel, xapi, xapi.mention_event(again))["created"] == 0  # re-delivered
    first = conversation_of(on_launch)
    assert conversation_of(again) == first and first.thread_key == launch and first.message_count == 2
    second = conversation_of(on_hours)
    assert second != first and second.thread_key == hours and second.contact_id == first.contact_id
    context = Message.objects.get(external_id=on_hours).meta["post"]
    assert context["text"] == "Neue Öffnungszeiten ab Mai" and context["link"].endswith(f"/status/{hours}")
    assert "@XDevelopers" in context["author"]
    assert xapi.lookups.count(launch) == 1  # the post's root is asked once, then known


def test_a_reply_chain_arriving_backwards_is_one_conversation_and_a_dm_stays_private(x_channel, xapi):
    root = xapi.add_tweet("@XDevelopers Mein Paket fehlt")
    middle = xapi.add_tweet("@XDevelopers Sendungsnummer 123", in_reply_to=root)
    last = xapi.add_tweet("@XDevelopers Immer noch nichts", in_reply_to=middle)
    for tweet in (last, middle, root):  # the newest first: each names the chain's root through the lookup
        assert x_post(x_channel, xapi, xapi.mention_event(tweet))["created"] == 1
    conversation = conversation_of(root)
    assert conversation_of(middle) == conversation == conversation_of(last)
    assert conversation.thread_key == root and conversation.message_count == 3
    assert "post" not in Message.objects.get(external_id=root).meta  # the root is the customer's own message
    assert x_post(x_channel, xapi, documented("direct_message_event"))["created"] == 1
    assert Conversation.objects.filter(is_public=False).count() == 1
    assert Conversation.objects.count() == 2


def test_an_event_with_conversation_id_asks_only_for_the_root_and_a_failed_lookup_keeps_the_post(x_channel, xapi):
    root = xapi.add_tweet("Beitrag der Firma zum Rad", username="XDevelopers", user_id="2244994945")
    middle = xapi.add_tweet("@XDevelopers Frage zum Rad", username="jemand", user_id="777")
    reply = xapi.add_tweet("@XDevelopers @jemand noch was", in_reply_to=middle)
    xapi.known[middle].update(in_reply_to=root, conversation_id=root)
    xapi.known[reply]["conversation_id"] = root
    x_post(x_channel, xapi, xapi.mention_event(reply, conversation_id=True))
    assert conversation_of(reply).thread_key == root
    assert xapi.lookups == [root]  # for the context only: the post it answers is not asked about
    assert Message.objects.get(external_id=reply).meta["post"]["text"] == "Beitrag der Firma zum Rad"
    xapi.remaining = 0  # rate limit: the reply is stored all the same, under the post it answers
    parent = xapi.add_tweet("Beitrag der Firma", username="XDevelopers", user_id="2244994945")
    late = xapi.add_tweet("@XDevelopers Antwort", in_reply_to=parent)
    assert x_post(x_channel, xapi, xapi.mention_event(late))["created"] == 1
    assert conversation_of(late).thread_key == parent and "post" not in Message.objects.get(external_id=late).meta


def test_the_public_answer_hangs_under_the_latest_post_of_its_own_chain(x_channel, xapi, agent_user):
    launch = xapi.add_tweet("Unser neues Trekkingrad ist da!", username="XDevelopers", user_id="2244994945")
    hours = xapi.add_tweet("Neue Öffnungszeiten", username="XDevelopers", user_id="2244994945")
    on_launch = xapi.add_tweet("@XDevelopers Preis?", in_reply_to=launch)
    on_hours = xapi.add_tweet("@XDevelopers Sonntags?", in_reply_to=hours)
    for tweet in (on_launch, on_hours):
        x_post(x_channel, xapi, xapi.mention_event(tweet))
    sent = deliver(send_reply(conversation_of(on_launch), agent_user, "1.299 €"))
    assert sent.delivery_status == "sent" and xapi.tweets[-1]["reply"] == {"in_reply_to_tweet_id": on_launch}
    # the customer answers our reply: the same conversation, no lookup needed for our post
    follow = xapi.add_tweet("@XDevelopers Danke!", in_reply_to=sent.external_id)
    lookups = len(xapi.lookups)
    x_post(x_channel, xapi, xapi.mention_event(follow))
    assert conversation_of(follow) == conversation_of(on_launch) and len(xapi.lookups) == lookups
    deliver(send_reply(conversation_of(on_hours), agent_user, "Geschlossen."))
    assert xapi.tweets[-1]["reply"] == {"in_reply_to_tweet_id": on_hours}


@pytest.mark.parametrize("status", [503, 429])
def test_a_failed_root_lookup_joins_the_stored_parents_chain(x_channel, xapi, status):
    """X cannot name the root (5xx, rate limit) of a post that answers a stored one: the stored post's thread is
    the root, so the person's replies in that chain still meet in one conversation once X answers again."""
    launch = xapi.add_tweet("Unser neues Trekkingrad ist da!", username="XDevelopers", user_id="2244994945")
    question = xapi.add_tweet("@XDevelopers Was kostet es?", in_reply_to=launch)
    x_post(x_channel, xapi, xapi.mention_event(question))
    assert conversation_of(question).thread_key == launch
    cache.clear()  # a restart (or eviction) forgets the roots of the posts received
    xapi.lookup_status = status
    answer = xapi.add_tweet("@XDevelopers @TwitterAPI Gilt das auch für mich?", username="radlerin", user_id="4242",
                            in_reply_to=question)
    assert x_post(x_channel, xapi, xapi.mention_event(answer))["created"] == 1
    assert conversation_of(answer).thread_key == launch and conversation_of(answer) != conversation_of(question)
    xapi.lookup_status = None
    more = xapi.add_tweet("@XDevelopers Und in Grün?", username="radlerin", user_id="4242", in_reply_to=launch)
    assert x_post(x_channel, xapi, xapi.mention_event(more))["created"] == 1
    assert conversation_of(more) == conversation_of(answer) and conversation_of(more).message_count == 2
    assert Conversation.objects.filter(contact=conversation_of(more).contact).count() == 1

