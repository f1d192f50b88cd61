"""The German desk: every string the templates and the label tables use has a German entry, and the codes the
database keeps (event kinds, reasons, intents, bot decisions) never reach a German page raw."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from django.utils import translation
from django.utils.translation import trans_real

from resonanz.desk.templatetags import labels
from resonanz.inbox import actions
from resonanz.inbox.models import ConversationEvent, Team
from resonanz.understanding.models import INTENTS

SRC = Path(__file__).resolve().parents[2] / "src" / "resonanz"
# every template of the product: the desk, the public pages (help center, contact form, community, surveys)
TEMPLATE_DIRS = [SRC / "templates", *sorted(SRC.glob("*/templates"))]
GETTEXT = {"_", "gettext", "gettext_lazy", "gettext_noop", "ngettext", "ngettext_lazy", "pgettext", "pgettext_lazy"}
LITERAL = re.compile(r"""{%\s*(?:translate|trans)\s+(["'])(.+?)\1""")
BLOCK = re.compile(r"{%\s*blocktrans(?:late)?\b[^%]*%}(.*?){%\s*endblocktrans(?:late)?\s*%}", re.S)
VARIABLE = re.compile(r"{{\s*(\w+)\s*}}")


def german_catalog() -> dict:
    return trans_real.translation("de")._catalog


def template_strings() -> set[str]:
    found = set()
    for root in TEMPLATE_DIRS:
        files = [root] if root.is_file() else root.rglob("*.html")
        for path in files:
            text = path.read_text()
            found |= {m.group(2) for m in LITERAL.finditer(text)}
            for m in BLOCK.finditer(text):  # {{ n }} becomes %(n)s; a plural block is checked by its singular
                singular = re.split(r"{%\s*plural\s*%}", m.group(1))[0]
                found.add(VARIABLE.sub(r"%(\1)s", singular))
    return found


def test_every_desk_template_string_has_a_german_entry():
    catalog = german_catalog()
    missing = sorted(s for s in template_strings() if s not in catalog and (s, 0) not in catalog)
    assert not missing, f"no German entry for {missing}"


def python_strings() -> set[tuple[str, str]]:
    """(file, msgid) of every literal handed to gettext in the product's Python code (implicitly joined literals
    arrive as one string, as xgettext sees them). The engine has no UI strings; migrations are not shown."""
    found = set()
    for path in SRC.rglob("*.py"):
        if "migrations" in path.parts or path.is_relative_to(SRC / "analysis"):
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            if name not in GETTEXT or not node.args:
                continue
            arg = node.args[1] if name.startswith("pgettext") and len(node.args) > 1 else node.args[0]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and arg.value.strip():
                context = node.args[0].value if name.startswith("pgettext") else None
                found.add((str(path.relative_to(SRC)), f"{context}\x04{arg.value}" if context else arg.value))
    return found


def test_every_python_ui_string_has_a_german_entry():
    catalog = german_catalog()
    missing = sorted((where, s) for where, s in python_strings() if s not in catalog and (s, 0) not in catalog)
    assert not missing, f"no German entry for {missing}"


def test_every_label_table_has_german_words():
    catalog = german_catalog()
    tables = [labels.EVENT_KINDS, labels.REASONS, labels.DECISIONS, labels.NEEDS_PERSON, dict(INTENTS)]
    with translation.override("en"):
        msgids = {code: str(text) for table in tables for code, text in table.items()}
    missing = sorted(code for code, msgid in msgids.items() if msgid not in catalog)
    assert not missing, f"no German words for {missing}"


@pytest.mark.parametrize(("reason", "german"), [
    ("handed over by the bot: needs_person:negative", "vom Bot übergeben: braucht einen Menschen (negative Stimmung)"),
    ("answered by this agent", "von dieser Person beantwortet"),
    ("SLA policy “Standard”", "Service-Level-Richtlinie „Standard“"),
    ("first response was due 2026-11-30 10:00", "erste Antwort war fällig am 2026-11-30 10:00"),
    ("Frau Meier ruft zurück", "Frau Meier ruft zurück"),  # a person's own words stay as written
    ("rule “Legal threats to Legal”: intent legal threat, confidence 0.91",
     "Regel „Rechtliche Drohungen an Legal“: Absicht Rechtliche Drohung, Sicherheit 0.91"),
    ("rule “Meine Regel: VIP”: team is empty", "Regel „Meine Regel: VIP“: Team ist leer"),
    ("SLA policy “Default”", "Service-Level-Richtlinie „Standard“"),  # the seeded policy's name too
    ("ready for collection through the API", "liegt zur Abholung über die API bereit"),
])
def test_stored_reasons_read_in_german(reason, german):
    with translation.override("de"):
        assert labels.reason_label(reason) == german


@pytest.mark.parametrize(("reason", "german"), [
    ("routed to Legal; priority High; tagged legal, bot-handover: intent legal threat, confidence 0.91",
     "an Legal geleitet; Priorität Hoch; Schlagwörter legal, bot-handover: Absicht Rechtliche Drohung, "
     "Sicherheit 0.91"),
    ("routed to Support: team is empty", "an Support geleitet: Team ist leer"),
    ("turned into a conversation; routed to PR: sentiment negative (-0.62), reach 25000",
     "in eine Konversation umgewandelt; an PR geleitet: Stimmung negativ (-0.62), "
     "Reichweite des Kontakts (Follower) 25000"),
    ("answered with “FAQ: Versand”: always", "mit „FAQ: Versand“ beantwortet: immer"),
    ("status pending; assigned to Tom (round robin): text has any of the words 'Rechnung'",
     "Status Wartend; Tom zugewiesen (reihum): Nachrichtentext enthält eines der Wörter 'Rechnung'"),
])
def test_what_a_rule_did_reads_in_german(reason, german):
    with translation.override("de"):
        assert labels.rule_run_label(reason) == german


@pytest.mark.django_db
def test_conversation_page_in_german_shows_no_codes(client):
    from resonanz.connectors.actions import create_channel
    from tests.conftest import inbound

    actions.ensure_default_teams()
    user = actions.invite_agent("de@example.com", display_name="Dora", role="agent", password="pw-dora-123",
                                language="de")
    channel = create_channel(kind="api", name="API")
    conversation = actions.ingest(channel, inbound("g1", "k@example.com", subject="Rechnung")).conversation
    actions.update_conversation(conversation, user, status="pending", team=Team.objects.get(name="Legal"),
                                tags=["vip"], reason="demo data")
    actions.send_reply(conversation, user, "Wir kümmern uns darum.")
    client.force_login(user)
    html = client.get(f"/inbox/conversations/{conversation.pk}/").content.decode()
    history = html[html.index('id="history"'):]
    kinds = set(ConversationEvent.objects.filter(conversation=conversation).values_list("kind", flat=True))
    for kind in kinds:
        assert f"> {kind}" not in history and f" {kind}:" not in history, kind
    assert "Status geändert: Neu → Wartend" in history or "Status geändert: Offen → Wartend" in history
    assert "Demodaten" in history and "demo data" not in history
    inbox = client.get("/inbox/?status=pending").content.decode()
    assert any(word in inbox for word in (">jetzt<", "vor ", "gerade eben"))  # relative: "vor 5 Minuten"


@pytest.mark.django_db
def test_switching_to_german_confirms_in_german_at_once(client):
    """The confirmation after choosing German used to read "Profile saved." (the request still spoke English)."""
    user = actions.invite_agent("en@example.com", display_name="Eddie", role="agent", password="pw-eddie-123",
                                language="en")
    client.force_login(user)
    page = client.get("/inbox/profile/").content.decode()
    assert "Your profile" in page
    form = {"display_name": "Eddie", "initials": "ED", "avatar_url": "", "language": "de", "is_available": "on"}
    page = client.post("/inbox/profile/", form, follow=True).content.decode()
    assert "Profil gespeichert." in page and "Profile saved." not in page
    assert '<html lang="de">' in page


@pytest.mark.django_db
def test_every_page_names_one_favicon_that_exists(client):
    from django.contrib.staticfiles import finders

    page = client.get("/accounts/login/").content.decode()
    assert page.count('rel="icon"') == 1 and "resonanz/favicon.svg" in page
    assert finders.find("resonanz/favicon.svg")
    assert client.get("/favicon.ico")["Location"].endswith("resonanz/favicon.svg")


@pytest.mark.parametrize(("note", "german"), [
    ("created", "erstellt"), ("changed body, title", "geändert: Text (Markdown), Titel"),
    ("status published", "Status Veröffentlicht"), ("restored version 3", "Version 3 wiederhergestellt"),
    ("Tippfehler behoben", "Tippfehler behoben"),  # an editor's own note stays as written
])
def test_article_versions_read_in_german(note, german):
    with translation.override("de"):
        assert labels.version_note(note) == german


def test_listening_and_contact_pages_show_intents_in_words():
    """Intent codes reached the listening stream and the contact timeline raw (legal_threat, purchase_interest)."""
    for template in ("desk/templates/listening/stream.html", "templates/crm/contact.html"):
        text = (SRC / template).read_text()
        assert "{{ i }}</span>" not in text and "{{ i|intent_label }}" in text, template


def test_moderation_log_reads_in_german():
    with translation.override("de"):
        for table, word in ((labels.MODERATION, labels.moderation_action), (labels.MODERATED, labels.moderated_kind)):
            for code in table:
                assert word(code) != code, code
        assert labels.moderation_action("remove") == "entfernt"
        assert labels.moderated_kind("tag") == "Schlagwort"
        assert labels.moderation_reason("Doppelt gepostet") == "Doppelt gepostet"


@pytest.mark.django_db
def test_the_first_page_after_login_speaks_the_agents_language(client):
    """A German agent on an English browser: the login page is English, the inbox right after it German."""
    actions.invite_agent("dora@example.com", display_name="Dora", role="agent", password="pw-dora-12345",
                         language="de")
    login = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<html lang="en">' in login
    inbox = client.post("/accounts/login/", {"username": "dora@example.com", "password": "pw-dora-12345"},
                        HTTP_ACCEPT_LANGUAGE="en", follow=True).content.decode()
    assert '<html lang="de">' in inbox and "Zu erledigen" in inbox
