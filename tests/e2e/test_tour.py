"""A tour of every main page after the apps met in one product: each renders in German at desktop and phone width
with no console error, no failed request and nothing wider than the screen.

The pages were built in parallel (channels, chat, insights, community, the agent's tools); a page that combines
their parts (the conversation with macros, reply window, community panel and filtered-view controls) is where
they can collide, so it is looked at as a whole here.
"""

from __future__ import annotations

import pytest

from resonanz.automation.defaults import ensure_defaults
from resonanz.automation.models import Rule
from resonanz.connectors.actions import create_channel
from resonanz.inbox import actions
from resonanz.inbox.models import Team
from resonanz.knowledge.actions import create_article
from tests.conftest import inbound
from tests.e2e.helpers import Watched

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# (name, path, what the page says in German, in English, the lowest role that may open it)
PAGES = [
    ("inbox", "/inbox/", "Zu erledigen", "To do", "agent"),
    ("filtered", "/inbox/?filtered=only", "Gefiltert", "Filtered", "agent"),
    ("macros", "/inbox/macros/", "Textbausteine", "Macros", "agent"),
    ("profile", "/inbox/profile/", "Ihr Profil", "Your profile", "agent"),
    ("password", "/accounts/password/", "Passwort ändern", "Change your password", "agent"),
    ("channels", "/inbox/settings/channels/", "Kanäle", "Channels", "admin"),
    ("agents", "/inbox/settings/agents/", "Agenten", "Agents", "admin"),
    ("teams", "/inbox/settings/teams/", "Teams", "Teams", "admin"),
    ("catalog", "/inbox/settings/catalog/", "Katalog", "Catalog", "admin"),
    ("retention", "/inbox/settings/retention/", "Aufbewahrung", "Retention", "admin"),
    ("security", "/inbox/settings/security/", "Zwei-Faktor-Anmeldung", "Two-factor sign-in", "admin"),
    ("api-tokens", "/inbox/profile/tokens/", "API-Tokens", "API tokens", "agent"),
    ("two-factor", "/inbox/profile/two-factor/", "Zwei-Faktor-Anmeldung", "Two-factor sign-in", "agent"),
    ("contacts", "/contacts/", "Kontakte", "Contacts", "agent"),
    ("duplicates", "/contacts/duplicates/", "Mögliche Dubletten", "Possible duplicates", "agent"),
    ("start", "/inbox/start/", "Erste Schritte", "Getting started", "admin"),
    ("listening", "/listening/", "Monitoring", "Listening", "agent"),
    ("queries", "/listening/queries/", "Suchanfragen", "Listening queries", "agent"),
    ("query-new", "/listening/queries/new/", "Neue Suchanfrage", "New listening query", "supervisor"),
    ("insights", "/insights/", "Insights", "Insights", "agent"),
    ("launch", "/insights/launch/", "Launch-Monitor", "Launch monitor", "agent"),
    ("notifications", "/insights/notifications/", "Benachrichtigungen", "Notifications", "agent"),
    ("alert-channels", "/insights/alert-channels/", "Wohin Warnungen gehen", "Where alerts go", "supervisor"),
    ("rules", "/automation/rules/", "Regeln", "Rules", "supervisor"),
    ("rule-new", "/automation/rules/new/", "Neue Regel", "New rule", "supervisor"),
    ("slas", "/automation/slas/", "SLA-Richtlinien", "SLA policies", "supervisor"),
    ("approvals", "/automation/approvals/", "Antworten, die auf Freigabe warten", "Replies waiting for approval",
     "supervisor"),
    ("guidelines", "/automation/guidelines/", "Vor dem Senden geprüfte Richtlinien",
     "Guidelines checked before sending", "supervisor"),
    ("knowledge", "/knowledge/", "Wissen", "Knowledge", "agent"),
    ("article-new", "/knowledge/new/", "Neuer Artikel", "New article", "supervisor"),
    ("categories", "/knowledge/categories/", "Kategorien", "Categories", "supervisor"),
    ("transfer", "/knowledge/transfer/", "Import und Export", "Import and export", "supervisor"),
    ("moderation", "/moderation/", "Community", "Community", "agent"),
    ("moderation-ideas", "/moderation/ideas/", "Ideen", "Ideas", "agent"),
    ("members", "/moderation/members/", "Mitglieder", "Members", "agent"),
    ("idea-clusters", "/moderation/ideas/clusters/", "Ideen-Gruppen", "Idea clusters", "supervisor"),
    ("community", "/community/", "Fragen und Antworten", "Questions and answers", "agent"),
    ("community-tags", "/community/tags/", "Schlagwörter", "Tags", "agent"),
    ("community-ideas", "/community/ideas/", "Ideen", "Ideas", "agent"),
    ("showcase", "/community/ideas/done/", "Umgesetzt – dank Ihnen", "Done – thanks to you", "agent"),
    ("help", "/help/", "Wie können wir helfen", "How can we help?", "agent"),
]
RANK = {"agent": 0, "supervisor": 1, "admin": 2}


@pytest.fixture
def conversation(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    channel = create_channel(kind="api", name="Web-API")
    return actions.ingest(channel, inbound("t1", "kim@example.com", subject="Lieferung fehlt",
                                           text="Meine Bestellung ist nicht angekommen.")).conversation


@pytest.fixture
def details(admin, conversation):
    """Pages of single things: a rule, an article in the desk and in the help center, a contact, the form."""
    ensure_defaults()
    article = create_article(admin, title="Versandkosten", body="Ab 50 € versandkostenfrei.", language="de",
                             status="published")
    form = create_channel(kind="web_form", name="Formular intern")
    rule = Rule.objects.order_by("position").first()
    return [
        ("conversation", f"/inbox/conversations/{conversation.pk}/", "Lieferung fehlt", "Lieferung fehlt", "agent"),
        ("contact", f"/contacts/{conversation.contact_id}/", "kim@example.com", "kim@example.com", "agent"),
        ("rule", f"/automation/rules/{rule.pk}/", "Rechtliche Drohungen an Legal", "Legal threats to Legal",
         "supervisor"),
        ("article", f"/knowledge/{article.pk}/", "Versandkosten", "Versandkosten", "agent"),
        ("article-edit", f"/knowledge/{article.pk}/edit/", "Artikel bearbeiten", "Edit article", "supervisor"),
        ("help-article", f"/help/de/{article.pk}-{article.slug}/", "Versandkosten", "Versandkosten", "agent"),
        ("contact-form", f"/contact/{form.slug}/", "Ich bin einverstanden", "I agree that my details", "agent"),
    ]


@pytest.fixture
def admin():
    actions.ensure_default_teams()
    return actions.invite_agent("tour@example.com", display_name="Tina Tour", role="admin",
                                password="pw-tour-1234", language="de")


@pytest.mark.parametrize(("role", "language", "size"), [
    ("admin", "de", "desktop"), ("admin", "de", "phone"), ("supervisor", "en", "phone"), ("agent", "en", "desktop")])
def test_every_page_for_each_role(live_server, browser, admin, details, role, language, size):
    """Every page the role may open renders in its language with no console error, no failed request and nothing
    wider than the screen; a screenshot of each goes to var/screenshots for a person to look at."""
    email = "tour@example.com"
    if role != "admin":
        email = f"{role}@example.com"
        actions.invite_agent(email, display_name=role.title(), role=role, password="pw-tour-1234", language=language,
                             teams=list(Team.objects.all()))
    w = Watched(browser, size, language=language)
    w.login(live_server.url, email, "pw-tour-1234")
    missing = []
    for name, path, german, english, lowest in [*PAGES, *details]:
        if RANK[role] < RANK[lowest]:
            continue
        response = w.page.goto(live_server.url + path)
        w.page.wait_for_load_state()
        assert response.status == 200, (path, response.status)
        text = w.page.inner_text("main") if w.page.query_selector("main") else w.page.inner_text("body")
        expected = german if language == "de" else english
        if expected.lower() not in text.lower():
            missing.append((path, expected, text[:200]))
        w.check(f"tour-{role}-{language}-{name}")
    w.close()
    assert not missing, missing
