"""A tour of every main page after the apps met in one product: each renders in German at desktop and phone width
with no console error, no failed request and nothing wider than the screen.

The pages were built in parallel (channels, chat, insights, community, the agent's tools); a page that combines
their parts (the conversation with macros, reply window, community panel and filtered-view controls) is where
they can collide, so it is looked at as a whole here.
"""

from __future__ import annotations

import pytest

from resonanz.connectors.actions import create_channel
from resonanz.inbox import actions
from tests.conftest import inbound
from tests.e2e.helpers import Watched

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PAGES = [
    ("inbox", "/inbox/", "Zu erledigen"),
    ("filtered", "/inbox/?filtered=only", "Gefiltert"),
    ("macros", "/inbox/macros/", "Textbausteine"),
    ("channels", "/inbox/settings/channels/", "Kanäle"),
    ("retention", "/inbox/settings/retention/", "Aufbewahrung"),
    ("security", "/inbox/settings/security/", "Zwei-Faktor-Anmeldung"),
    ("api-tokens", "/inbox/profile/tokens/", "API-Tokens"),
    ("two-factor", "/inbox/profile/two-factor/", "Zwei-Faktor-Anmeldung"),
    ("contacts", "/contacts/", "Kontakte"),
    ("duplicates", "/contacts/duplicates/", "Mögliche Dubletten"),
    ("start", "/inbox/start/", "Erste Schritte"),
    ("listening", "/listening/", "Monitoring"),
    ("queries", "/listening/queries/", "Suchanfragen"),
    ("insights", "/insights/", "Insights"),
    ("launch", "/insights/launch/", "Launch-Monitor"),
    ("notifications", "/insights/notifications/", "Benachrichtigungen"),
    ("alert-channels", "/insights/alert-channels/", "Wohin Warnungen gehen"),
    ("rules", "/automation/rules/", "Regeln"),
    ("knowledge", "/knowledge/", "Wissen"),
    ("moderation", "/moderation/", "Community"),
    ("community", "/community/", "Fragen und Antworten"),
    ("community-tags", "/community/tags/", "Schlagwörter"),
    ("idea-clusters", "/moderation/ideas/clusters/", "Ideen-Gruppen"),
    ("help", "/help/de/", "Wie können wir helfen"),
]


@pytest.fixture
def admin():
    actions.ensure_default_teams()
    return actions.invite_agent("tour@example.com", display_name="Tina Tour", role="admin",
                                password="pw-tour-1234", language="de")


@pytest.fixture
def conversation(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    channel = create_channel(kind="api", name="Web-API")
    return actions.ingest(channel, inbound("t1", "kim@example.com", subject="Lieferung fehlt",
                                           text="Meine Bestellung ist nicht angekommen.")).conversation


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_every_main_page_in_german(live_server, browser, admin, conversation, size):
    w = Watched(browser, size)
    w.login(live_server.url, "tour@example.com", "pw-tour-1234")
    form = create_channel(kind="web_form", name="Formular intern")
    pages = [*PAGES, ("conversation", f"/inbox/conversations/{conversation.pk}/", "Lieferung fehlt"),
             ("contact-form", f"/contact/{form.slug}/", "Ich bin einverstanden")]
    missing = []
    for name, path, expected in pages:
        response = w.page.goto(live_server.url + path)
        w.page.wait_for_load_state()
        assert response.status == 200, (path, response.status)
        text = w.page.inner_text("main") if w.page.query_selector("main") else w.page.inner_text("body")
        if expected.lower() not in text.lower():
            missing.append((path, expected, text[:200]))
        w.check(f"tour-{name}")
    w.close()
    assert not missing, missing
