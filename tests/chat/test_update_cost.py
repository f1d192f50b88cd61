"""What one live update of a visitor costs and shows: it runs for every line on every open stream (chat/live.py),
so it is counted in statements; and the plain-SQL state must say what the ORM version said."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from resonanz.chat.access import Visitor
from resonanz.chat.live import _update
from resonanz.inbox.actions import send_reply
from resonanz.inbox.models import Conversation

pytestmark = pytest.mark.django_db


def test_an_update_with_new_lines_and_a_persons_reply_takes_few_statements(chat_channel, widget, agent_user,
                                                                           django_capture_on_commit_callbacks):
    widget.start(name="Vera")
    for i in range(3):
        widget.say(f"Zeile {i}", f"c{i}")
    with django_capture_on_commit_callbacks(execute=True):  # delivered, as the worker does
        send_reply(Conversation.objects.get(), agent_user, "Guten Tag, hier ist Berta.")
    visitor = Visitor.from_token(widget.token, chat_channel)
    with CaptureQueriesContext(connection) as queries:
        update = _update(chat_channel, visitor, 0, set())
    assert [m["text"] for m in update["messages"]][-1] == "Guten Tag, hier ist Berta."
    assert update["state"]["agent"] == "Berta Beispiel" and update["state"]["handed_over"] is True
    # identity, lines, attachments, authors, cursor, latest conversation, last person, their name, waiting:
    # the ORM version sent 13, looking the visitor's identity up three times
    assert len(queries) <= 9, [q["sql"] for q in queries]


def test_an_assignee_without_an_agent_profile_shows_the_person_who_answered(chat_channel, widget, agent_user):
    widget.start()
    widget.say("Hallo?", "c1")
    conversation = Conversation.objects.get()
    send_reply(conversation, agent_user, "Moin!")
    admin = get_user_model().objects.create_user("root@example.com", password="pw-root-12345")
    Conversation.objects.filter(pk=conversation.pk).update(assignee=admin)
    state = widget.get("messages/").json()["state"]
    assert (state["agent"], state["handed_over"], state["queue"]) == ("Berta Beispiel", True, None)


def test_lines_after_the_cursor_only_and_nothing_for_a_visitor_without_a_line(chat_channel, widget):
    widget.start()
    assert widget.get("messages/").json()["messages"] == []
    first = widget.say("eins", "c1").json()["message"]["id"]
    widget.say("zwei", "c2")
    answer = widget.get(f"messages/?after={first}").json()
    assert [m["text"] for m in answer["messages"]] == ["zwei"] and answer["cursor"] > first
    other = type(widget)(widget.slug)
    other.start()
    assert other.get("messages/").json()["messages"] == []  # another visitor's token sees none of them
