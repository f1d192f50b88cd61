"""In the browser: a suggested article goes into the reply box with one click and counts as used."""

from __future__ import annotations

import pytest

from resonanz.connectors.actions import create_channel
from resonanz.inbox.actions import ingest, invite_agent
from resonanz.knowledge.actions import create_article
from resonanz.knowledge.models import Article
from tests.conftest import inbound

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_use_a_suggested_article(live_server, page, model_dir):
    user = invite_agent("sugg@example.com", display_name="Sugg Agent", role="agent", password="pw-sugg-123")
    article = create_article(user, title="Change the delivery address of an order", language="en",
                             status="published", visibility="internal",
                             body="Open My orders, choose the order and click Change address.",
                             example_questions="change delivery address\nupdate shipping address")
    channel = create_channel(kind="api", name="Sugg API")
    # no surrounding transaction here: the pipeline (eager in tests) runs when ingest() commits
    result = ingest(channel, inbound("s1", "c@example.com", text="How can I change the delivery address?"))
    page.goto(live_server.url + f"/inbox/conversations/{result.conversation.pk}/")
    page.fill("input[name=username]", "sugg@example.com")
    page.fill("input[name=password]", "pw-sugg-123")
    page.click("button[type=submit]")
    page.wait_for_selector("#suggestions .use-suggestion")
    page.click("#suggestions .use-suggestion")
    assert "Change address" in page.input_value("#reply-text")
    for _ in range(20):
        if Article.objects.get(pk=article.pk).helpful_count:
            break
        page.wait_for_timeout(100)
    assert Article.objects.get(pk=article.pk).helpful_count == 1
