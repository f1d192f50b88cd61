"""The effects registry is the only list of action kinds: saving, running and the rule editor all read it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from django.core import mail

from resonanz.automation import effects
from resonanz.automation.actions import delete_rule, save_rule
from resonanz.automation.effects import Act, Effect, Param, register
from resonanz.automation.models import Rule, RuleRun
from resonanz.automation.runner import run_for_message, run_for_post
from resonanz.connectors.actions import create_channel
from resonanz.core.errors import ActionError
from resonanz.inbox import actions as inbox
from resonanz.inbox.actions import ingest, invite_agent
from resonanz.knowledge.actions import create_article
from resonanz.listening.actions import InboundPost, ingest_post
from tests.conftest import inbound

pytestmark = pytest.mark.django_db
SECRET = "s3cret-s3cret-s3cret"
JS = Path(__file__).resolve().parents[2] / "src/resonanz/static/resonanz/automation.js"


@pytest.fixture
def registry():
    """Units a test registers are gone afterwards."""
    effects.kinds()
    saved = dict(effects._REGISTRY)
    yield
    effects._REGISTRY.clear()
    effects._REGISTRY.update(saved)


@pytest.fixture
def samples(teams, admin_user, hook_server):
    """A value for each parameter name; the editor, too, picks its widget by the name."""
    agent = invite_agent("lena@example.com", display_name="Lena Legal", teams=[teams["Legal"]], password="pw-123456")
    article = create_article(admin_user, title="Where is my parcel?", body="Track it under **Orders**.",
                             language="en", status="published")
    url, received = hook_server
    return {"team": teams["Legal"].pk, "agent": agent.pk, "strategy": "least_open", "status": "pending",
            "priority": 4, "tags": ["checked"], "text": "Hallo {name}, Ihr Fall {reference}.",
            "text_de": "Hallo {name}!", "text_en": "Hello {name}!", "article": article.pk,
            "to": "ops@example.com", "url": url, "secret": SECRET}, received


def example(effect, samples: dict) -> dict:
    missing = [p.name for p in effect.params if p.name not in samples]
    assert not missing, f"no sample value in this test for {effect.kind}'s parameters {missing}"
    return {"type": effect.kind, **{p.name: samples[p.name] for p in effect.params}}


def test_every_registered_kind_is_saved_and_acts(samples, api_channel, django_capture_on_commit_callbacks):
    values, received = samples
    feed = create_channel(kind="feed", name="News")
    assert len(effects.kinds()) >= 15
    for n, effect in enumerate(effects.effects()):
        action = example(effect, values)
        try:  # on a message if the kind allows it, else on a public post
            rule = save_rule(None, None, name=effect.kind, trigger="message_received", conditions={},
                             actions=[action])
        except ActionError:
            rule = save_rule(None, None, name=effect.kind, trigger="post_received", conditions={},
                             actions=[action])
        assert rule.actions[0]["type"] == effect.kind
        with django_capture_on_commit_callbacks(execute=True):
            if rule.trigger == "message_received":
                message = ingest(api_channel, inbound(f"e{n}", handle=f"k{n}@example.com")).message
                runs = run_for_message(message, is_new=False)
            else:
                post = ingest_post(feed, InboundPost(external_id=f"p{n}", text="Kaputt!", author="K",
                                                     author_handle=f"k{n}@example.com")).post
                runs = run_for_post(post)
        rule.refresh_from_db()
        assert rule.enabled, f"{effect.kind} failed: {rule.last_error}"
        assert [r.rule_id for r in runs] == [rule.pk]
        assert RuleRun.objects.get(rule=rule).reason.endswith(": always")
        delete_rule(rule)
    # what the notifications and replies did reached the outside
    assert [m.to for m in mail.outbox] == [["ops@example.com"]]
    assert len(received) == 1


def test_an_unknown_kind_is_refused_with_the_known_kinds(teams):
    for bad in ({"type": "teleport"}, {"type": ["stop"]}, {}, "stop"):
        with pytest.raises(ActionError) as refused:
            save_rule(None, None, name="x", trigger="message_received", conditions={}, actions=[bad])
        assert refused.value.field == "actions"
        assert refused.value.message.startswith("Unknown action")
        assert re.findall(r"\w+", refused.value.message.split("use one of", 1)[1]) == effects.kinds()


def test_a_stored_action_whose_unit_is_gone_switches_its_rule_off(teams, api_channel):
    rule = save_rule(None, None, name="Old", trigger="message_received", conditions={},
                     actions=[{"type": "add_tags", "tags": ["x"]}])
    Rule.objects.filter(pk=rule.pk).update(actions=[{"type": "vanished"}])
    message = ingest(api_channel, inbound("v1")).message
    assert run_for_message(message, is_new=True) == []
    rule.refresh_from_db()
    assert not rule.enabled and "Unknown action 'vanished'" in rule.last_error


def test_a_new_kind_is_one_unit(registry, teams, api_channel, client, supervisor):
    @register
    class Echo(Effect):
        kind, label, order = "echo_tag", "tag with a word", 5
        params = (Param("word", "word"),)

        def clean(self, action: dict, trigger: str) -> dict:
            if not str(action.get("word") or "").isalpha():
                raise ActionError("Give one word.", "actions")
            return {"word": action["word"].lower()}

        def perform(self, action: dict, act: Act) -> list[str]:
            inbox.update_conversation(act.conversation, None, tags=[action["word"]], reason=act.reason)
            return [f"echoed {action['word']}"]

    assert effects.kinds()[0] == "echo_tag" and "echo_tag" in effects.needing_conversation()
    with pytest.raises(ActionError, match="one word"):
        save_rule(None, None, name="Echo", trigger="message_received", conditions={},
                  actions=[{"type": "echo_tag", "word": "two words"}])
    rule = save_rule(None, None, name="Echo", trigger="message_received", conditions={},
                     actions=[{"type": "echo_tag", "word": "Hallo"}])
    message = ingest(api_channel, inbound("n1")).message
    [run] = run_for_message(message, is_new=True)
    assert run.actions == ["echoed hallo"] and run.rule == rule
    assert list(message.conversation.tags.values_list("name", flat=True)) == ["hallo"]
    with pytest.raises(ActionError, match="needs a conversation"):  # declared, so checked for posts too
        save_rule(None, None, name="Echo", trigger="post_received", conditions={},
                  actions=[{"type": "echo_tag", "word": "Hallo"}])
    client.force_login(supervisor)
    options = editor_options(client)
    assert list(options["actions"])[0] == "echo_tag"
    assert options["params"]["echo_tag"] == [{"name": "word", "label": "word", "optional": False}]


def test_two_units_for_one_kind_are_refused(registry):
    class Another(Effect):
        kind = "stop"

    with pytest.raises(ValueError, match="Two units for the action kind 'stop'"):
        register(Another)


def test_the_editor_and_its_script_take_the_kinds_from_the_registry(client, supervisor, teams):
    client.force_login(supervisor)
    options = editor_options(client)
    assert list(options["actions"]) == effects.kinds()
    assert options["actions"] == {k: str(v) for k, v in effects.labels().items()}
    assert {k: [p["name"] for p in v] for k, v in options["params"].items()} == {
        e.kind: [p.name for p in e.params] for e in effects.effects()}
    script = JS.read_text()
    assert not [k for k in effects.kinds() if re.search(rf"\b{k}\b", script)], "a kind is named in the script"


def editor_options(client) -> dict:
    page = client.get("/automation/rules/new/").content.decode()
    found = re.search(r'<script id="rule-options" type="application/json">(.*?)</script>', page, re.S)
    return json.loads(found.group(1))
