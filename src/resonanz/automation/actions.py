"""Every change to rules, and every rule's effect, goes through a function here.

Running rules: ``run_for_message`` (pipeline step), ``run_for_post`` (listening),
``run_time_rules`` / ``run_sla_rules`` (beat), ``run_for_update`` (a person changed a
conversation). Each builds one snapshot dict, matches the compiled rule list against it and
applies the matching rules in order. A rule acts at most once per event: the RuleRun row with
its unique (rule, event_key) is written in the same transaction as the rule's changes.
A rule that fails is rolled back, switched off and reported; the next rule still runs.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Max
from django.utils import timezone

from resonanz.automation import engine
from resonanz.automation.fields import (
    EXPENSIVE,
    snapshot_for_conversation,
    snapshot_for_message,
    snapshot_for_post,
)
from resonanz.automation.models import AutomationState, Rule, RuleRun
from resonanz.core import outbound
from resonanz.core.errors import ActionError
from resonanz.core.events import publish
from resonanz.inbox import actions as inbox
from resonanz.inbox.models import AgentProfile, Conversation, Message, Team

log = logging.getLogger("resonanz.automation")
User = get_user_model()

ACTION_TYPES = {
    "assign_team": "route to a team",
    "assign_agent": "assign to an agent",
    "assign_in_team": "assign within the team",
    "set_status": "set status",
    "set_priority": "set priority",
    "add_tags": "add tags",
    "remove_tags": "remove tags",
    "reply_template": "answer with a template",
    "reply_article": "answer with an article",
    "note": "add an internal note",
    "notify_email": "notify by email",
    "webhook": "call a signed webhook",
    "create_conversation": "turn the post into a conversation",
    "mark_spam": "mark as spam",
    "stop": "stop processing further rules",
}
NEEDS_CONVERSATION = set(ACTION_TYPES) - {"notify_email", "webhook", "create_conversation", "stop"}
SPAM_TAG = "spam"


# --- saving rules ------------------------------------------------------------------------------------------


def validate(*, name: str, trigger: str, conditions, actions) -> dict:
    """Refuse a rule that cannot work, saying why: unknown fields, invalid patterns, missing teams, …"""
    if not (name or "").strip():
        raise ActionError("A rule needs a name.", "name")
    if trigger not in Rule.Trigger.values:
        raise ActionError(f"Unknown trigger {trigger!r}; use one of {', '.join(Rule.Trigger.values)}.", "trigger")
    try:
        conditions = engine.normalize(conditions)
    except engine.RuleError as exc:
        raise ActionError(str(exc), "conditions") from None
    from resonanz.connectors.models import Channel

    for kind, model in (("team", Team), ("channel", Channel), ("user", User)):
        for _field, value in engine.referenced(conditions, kind):
            for pk in value if isinstance(value, list) else [value]:
                if pk is not None and not model.objects.filter(pk=pk).exists():
                    raise ActionError(f"The {kind} with id {pk} does not exist (any more).", "conditions")
    if not isinstance(actions, list) or not actions:
        raise ActionError("A rule needs at least one action.", "actions")
    cleaned = [_validate_action(a, trigger) for a in actions]
    if trigger == Rule.Trigger.POST_RECEIVED:
        made = False
        for a in cleaned:
            made = made or a["type"] == "create_conversation"
            if a["type"] in NEEDS_CONVERSATION and not made:
                raise ActionError(f"“{ACTION_TYPES[a['type']]}” needs a conversation: put “turn the post into a "
                                  f"conversation” before it.", "actions")
    elif any(a["type"] == "create_conversation" for a in cleaned):
        raise ActionError("Only rules on public posts can turn a post into a conversation.", "actions")
    return {"name": name.strip()[:200], "trigger": trigger, "conditions": conditions, "actions": cleaned}


def _validate_action(action, trigger: str) -> dict:
    if not isinstance(action, dict) or action.get("type") not in ACTION_TYPES:
        kind = action.get("type") if isinstance(action, dict) else action
        raise ActionError(f"Unknown action {kind!r}; use one of {', '.join(ACTION_TYPES)}.", "actions")
    kind = action["type"]
    out = {"type": kind}
    if kind == "assign_team":
        team = Team.objects.filter(pk=_int(action.get("team"))).first()
        if team is None:
            raise ActionError(f"The team {action.get('team')!r} does not exist (any more).", "actions")
        if not team.is_active:
            raise ActionError(f"The team {team} is inactive.", "actions")
        out["team"] = team.pk
        if action.get("strategy") in ("round_robin", "least_open"):
            out["strategy"] = action["strategy"]
    elif kind == "assign_agent":
        user = User.objects.filter(pk=_int(action.get("agent")), is_active=True, agent__isnull=False).first()
        if user is None:
            raise ActionError(f"The agent {action.get('agent')!r} does not exist or is deactivated.", "actions")
        out["agent"] = user.pk
    elif kind == "assign_in_team":
        strategy = action.get("strategy") or "least_open"
        if strategy not in ("round_robin", "least_open"):
            raise ActionError("Assignment within a team is round_robin or least_open.", "actions")
        out["strategy"] = strategy
    elif kind == "set_status":
        if action.get("status") not in Conversation.Status.values:
            raise ActionError(f"Unknown status {action.get('status')!r}.", "actions")
        out["status"] = action["status"]
    elif kind == "set_priority":
        if _int(action.get("priority")) not in Conversation.Priority.values:
            raise ActionError("Priority must be 1 (low) to 4 (urgent).", "actions")
        out["priority"] = _int(action["priority"])
    elif kind in ("add_tags", "remove_tags"):
        tags = action.get("tags")
        if isinstance(tags, str):
            tags = [t.strip() for t in tags.split(",")]
        tags = [str(t).strip()[:64] for t in tags or [] if str(t).strip()]
        if not tags:
            raise ActionError("Name at least one tag.", "actions")
        out["tags"] = tags
    elif kind in ("reply_template", "note"):
        text = str(action.get("text") or "").strip()
        if not text:
            raise ActionError("The text of the answer or note is empty.", "actions")
        out["text"] = text
        for lang in ("de", "en"):
            if str(action.get(f"text_{lang}") or "").strip():
                out[f"text_{lang}"] = str(action[f"text_{lang}"]).strip()
        _check_placeholders(out)
    elif kind == "reply_article":
        from resonanz.knowledge.models import Article

        article = Article.objects.filter(pk=_int(action.get("article"))).first()
        if article is None:
            raise ActionError(f"The article {action.get('article')!r} does not exist.", "actions")
        if not article.is_live or article.visibility != Article.Visibility.PUBLIC:
            raise ActionError(f"The article “{article.title}” is not published for customers.", "actions")
        out["article"] = article.pk
    elif kind == "notify_email":
        to = str(action.get("to") or "").strip()
        team = Team.objects.filter(pk=_int(action.get("team"))).first() if action.get("team") else None
        if action.get("team") and team is None:
            raise ActionError(f"The team {action.get('team')!r} does not exist (any more).", "actions")
        if to and "@" not in to:
            raise ActionError(f"{to!r} is not an email address.", "actions")
        if team and not team.email and not to:
            raise ActionError(f"The team {team} has no email address.", "actions")
        out.update({"to": to, "team": team.pk if team else None})
    elif kind == "webhook":
        url = str(action.get("url") or "").strip()
        if not re.match(r"^https?://[^\s/]+", url):
            raise ActionError(f"{url!r} is not an http(s) address.", "actions")
        try:
            outbound.check_url(url)  # internal addresses are refused when the rule is saved
        except outbound.RefusedURL as exc:
            raise ActionError(exc.message, "actions") from None
        secret = str(action.get("secret") or "")
        if len(secret) < 16:
            raise ActionError("The webhook secret needs at least 16 characters.", "actions")
        out.update({"url": url, "secret": secret})
    elif kind == "create_conversation" and trigger != Rule.Trigger.POST_RECEIVED:
        raise ActionError("Only rules on public posts can turn a post into a conversation.", "actions")
    return out


def _check_placeholders(action: dict) -> None:
    for key in ("text", "text_de", "text_en"):
        if key in action:
            try:
                action[key].format_map(_Placeholders({}))
            except (ValueError, IndexError) as exc:
                raise ActionError(f"The text has a broken placeholder: {exc}.", "actions") from None


class _Placeholders(dict):
    def __missing__(self, key):
        return "{" + key + "}"


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def save_rule(rule: Rule | None, actor, *, name: str, trigger: str, conditions, actions, description: str = "",
              enabled: bool = True, stop_processing: bool = False, position: int | None = None) -> Rule:
    data = validate(name=name, trigger=trigger, conditions=conditions, actions=actions)
    is_new = rule is None
    rule = rule or Rule(created_by=actor)
    for key, value in data.items():
        setattr(rule, key, value)
    rule.description = description or ""
    rule.stop_processing = bool(stop_processing)
    if enabled and not rule.enabled:
        rule.disabled_at, rule.last_error = None, ""
    rule.enabled = bool(enabled)
    if position is not None:
        rule.position = int(position)
    elif is_new:
        rule.position = (Rule.objects.aggregate(m=Max("position"))["m"] or 0) + 10
    rule.save()
    return rule


def set_enabled(rule: Rule, enabled: bool) -> Rule:
    if enabled:  # a rule switched off by a failure is checked again before it runs
        validate(name=rule.name, trigger=rule.trigger, conditions=rule.conditions, actions=rule.actions)
        rule.disabled_at, rule.last_error = None, ""
    rule.enabled = enabled
    rule.save()
    return rule


def move(rule: Rule, direction: int) -> None:
    """Swap with the neighbour above (-1) or below (+1); positions are renumbered 10, 20, …"""
    rules = list(Rule.objects.order_by("position", "id"))
    i = next(i for i, r in enumerate(rules) if r.pk == rule.pk)
    j = i + direction
    if 0 <= j < len(rules):
        rules[i], rules[j] = rules[j], rules[i]
    with transaction.atomic():
        for n, r in enumerate(rules, start=1):
            if r.position != n * 10:
                Rule.objects.filter(pk=r.pk).update(position=n * 10, updated_at=timezone.now())


def delete_rule(rule: Rule) -> None:
    rule.delete()


# --- the compiled rule list -----------------------------------------------------------------------------------


@dataclass
class RuleSet:
    rules: list[Rule]
    compiled: engine.CompiledRules


_cache: dict[frozenset, tuple[tuple, RuleSet]] = {}


def ruleset(triggers: frozenset[str]) -> RuleSet:
    """The enabled rules of these triggers in order, compiled once per change of any rule."""
    version = tuple(Rule.objects.aggregate(n=Count("id"), m=Max("updated_at")).values())
    cached = _cache.get(triggers)
    if cached and cached[0] == version:
        return cached[1]
    rules = list(Rule.objects.filter(enabled=True, trigger__in=triggers).order_by("position", "id"))
    compiled = engine.compile_rules([r.conditions for r in rules])
    result = RuleSet(rules, compiled)
    _cache[triggers] = (version, result)
    return result


# --- running ------------------------------------------------------------------------------------------------


@dataclass
class Event:
    key: str
    trigger: str
    snapshot: dict
    conversation: Conversation | None = None
    post: object = None
    message: Message | None = None


def run_for_message(message: Message, *, is_new: bool) -> list[RuleRun]:
    triggers = {Rule.Trigger.MESSAGE_RECEIVED}
    from_rule_post = (message.meta or {}).get("post_id") and RuleRun.objects.filter(
        post_id=message.meta["post_id"]).exists()
    if is_new and not from_rule_post:  # a post a rule turned into a conversation was routed by that rule
        triggers.add(Rule.Trigger.CONVERSATION_CREATED)
    rs = ruleset(frozenset(triggers))
    if not rs.rules:
        return []
    snap = snapshot_for_message(message, is_new=is_new, needed=rs.compiled.needed & EXPENSIVE)
    return apply(rs, Event(f"msg:{message.pk}", "message", snap, message.conversation, message=message))


def run_for_post(post) -> list[RuleRun]:
    rs = ruleset(frozenset({Rule.Trigger.POST_RECEIVED}))
    if not rs.rules:
        return []
    snap = snapshot_for_post(post, needed=rs.compiled.needed & EXPENSIVE)
    return apply(rs, Event(f"post:{post.pk}:{(post.content_hash or '')[:16]}", "post_received", snap, post=post))


def run_for_conversation(conversation: Conversation, trigger: str, key: str, sla_target=None) -> list[RuleRun]:
    rs = ruleset(frozenset({trigger}))
    if not rs.rules:
        return []
    snap = snapshot_for_conversation(conversation, needed=rs.compiled.needed & EXPENSIVE, sla_target=sla_target)
    return apply(rs, Event(key, trigger, snap, conversation))


def run_sla_rules(conversation: Conversation, target: str, phase: str) -> list[RuleRun]:
    trigger = Rule.Trigger.SLA_BREACHED if phase == "breached" else Rule.Trigger.SLA_WARNING
    return run_for_conversation(conversation, trigger, f"sla:{conversation.pk}:{target}:{phase}", sla_target=target)


def run_time_rules(limit: int = 5000) -> int:
    """"Pending for 48 hours": time rules over open conversations, once per quiet period of each."""
    rs = ruleset(frozenset({Rule.Trigger.TIME_PASSED}))
    if not rs.rules:
        return 0
    acted = 0
    for conversation in (Conversation.objects.filter(status__in=Conversation.OPEN_STATUSES)
                         .select_related("channel", "contact").order_by("last_activity_at")[:limit]):
        snap = snapshot_for_conversation(conversation, needed=rs.compiled.needed & EXPENSIVE)
        if not rs.compiled.match(snap):
            continue
        key = f"time:{conversation.pk}:{int(conversation.last_activity_at.timestamp())}"
        acted += len(apply(rs, Event(key, "time_passed", snap, conversation)))
    return acted


def run_for_update(conversation_id: int) -> list[RuleRun]:
    """After a person changed status, priority, team, assignee or tags. Changes made by rules, the bot or
    the system (no actor) do not fire it, so rules cannot trigger each other in a loop."""
    from resonanz.inbox.models import ConversationEvent

    event = (ConversationEvent.objects.filter(conversation_id=conversation_id, kind__in=(
        "status_changed", "priority_changed", "team_changed", "assigned", "tags_changed")).order_by("-id").first())
    if event is None or event.actor_id is None:
        return []
    conversation = Conversation.objects.select_related("channel", "contact").get(pk=conversation_id)
    return run_for_conversation(conversation, Rule.Trigger.CONVERSATION_UPDATED, f"upd:{event.pk}")


def apply(rs: RuleSet, event: Event) -> list[RuleRun]:
    """Apply the matching rules in order. Later rules see what earlier ones changed (team, status, tags …)."""
    matched = set(rs.compiled.match(event.snapshot))
    runs: list[RuleRun] = []
    changed = False
    for index, rule in enumerate(rs.rules):
        if changed:
            try:
                hit = rs.compiled.predicates[index](event.snapshot)
            except Exception as exc:  # a condition that fails on odd data switches its rule off
                _switch_off(rule, exc, event)
                continue
        else:
            hit = index in matched
        if not hit:
            continue
        outcome = _act(rule, event)
        if outcome is None:
            continue
        run, stop = outcome
        runs.append(run)
        changed = True
        if stop or rule.stop_processing:
            break
    return runs


def _act(rule: Rule, event: Event):
    why = ", ".join(x for x in engine.explain(rule.conditions, event.snapshot) if x) or "always"
    try:
        with transaction.atomic():
            try:
                with transaction.atomic():
                    run = RuleRun.objects.create(rule=rule, event_key=event.key[:200], trigger=event.trigger,
                                                 conversation=event.conversation,
                                                 post_id=getattr(event.post, "pk", None))
            except IntegrityError:
                return None  # acted on this event before (a retry): never twice
            done, stop = _perform(rule, event, why)
            summary = "; ".join(done) or "matched"
            run.conversation = event.conversation
            run.reason = f"{summary}: {why}"[:500]
            run.actions = done
            run.save(update_fields=["conversation", "reason", "actions"])
            Rule.objects.filter(pk=rule.pk).update(fire_count=F("fire_count") + 1, last_fired_at=timezone.now())
            if event.conversation is not None:
                inbox.record(event.conversation, "rule_applied", rule=rule.pk, rule_name=rule.name,
                             run=run.pk, reason=run.reason)
    except Exception as exc:
        log.exception("rule %s failed on %s", rule.pk, event.key)
        _switch_off(rule, exc, event)
        return None
    if event.conversation is not None:
        from resonanz.automation import sla

        try:
            sla.refresh(Conversation.objects.get(pk=event.conversation.pk))
        except Exception:
            log.exception("SLA refresh after rule %s failed", rule.pk)
    publish("rule.applied", rule_id=rule.pk, run_id=run.pk,
            conversation_id=event.conversation.pk if event.conversation else None)
    return run, stop


def _switch_off(rule: Rule, exc: Exception, event: Event) -> None:
    """Switch the failing rule off and tell the supervisors; the pipeline goes on."""
    detail = f"{type(exc).__name__}: {exc}"[:1000]
    Rule.objects.filter(pk=rule.pk).update(enabled=False, last_error=detail, disabled_at=timezone.now(),
                                           updated_at=timezone.now())
    rule.enabled = False
    reason = f"rule “{rule.name}” failed and was switched off: {detail}"
    if event.conversation is not None:
        try:
            inbox.record(event.conversation, "rule_failed", rule=rule.pk, reason=reason)
        except Exception:
            log.exception("could not record the failure of rule %s", rule.pk)
    report_to_supervisors(f"Resonanz: rule “{rule.name}” was switched off",
                          f"{reason}\n\nEvent: {event.key}\n{settings.RESONANZ_BASE_URL.rstrip('/')}"
                          f"/automation/rules/{rule.pk}/")
    publish("rule.failed", rule_id=rule.pk)


def supervisor_emails() -> list[str]:
    return sorted(set(AgentProfile.objects.filter(role__in=("supervisor", "admin"), user__is_active=True,
                                                  is_bot=False).exclude(user__email="")
                      .values_list("user__email", flat=True)))


def report_to_supervisors(subject: str, body: str) -> None:
    to = supervisor_emails()
    if not to:
        return
    try:
        send_mail(subject, body, None, to, fail_silently=False)
    except Exception:
        log.exception("could not email supervisors about: %s", subject)


# --- what rules do ------------------------------------------------------------------------------------------


def _perform(rule: Rule, event: Event, why: str) -> tuple[list[str], bool]:
    done: list[str] = []
    stop = False
    snap = event.snapshot
    label = f"rule “{rule.name}”: {why}"
    for action in rule.actions:
        kind = action["type"]
        if kind in NEEDS_CONVERSATION and event.conversation is None:
            raise ActionError(f"“{ACTION_TYPES[kind]}” needs a conversation.")
        conversation = event.conversation
        if kind == "assign_team":
            team = Team.objects.get(pk=action["team"])
            if not team.is_active:
                raise ActionError(f"The team {team} is inactive.")
            inbox.update_conversation(conversation, None, team=team, reason=label)
            snap["conversation.team"] = team.pk
            done.append(f"routed to {team.name}")
            if action.get("strategy"):
                done.append(_assign_within(conversation, team, action["strategy"], label, snap))
        elif kind == "assign_in_team":
            conversation.refresh_from_db(fields=["team"])
            if conversation.team_id is None:
                done.append("no team to assign within")
            else:
                done.append(_assign_within(conversation, conversation.team, action["strategy"], label, snap))
        elif kind == "assign_agent":
            user = User.objects.get(pk=action["agent"])
            inbox.assign(conversation, user, None, reason=label)
            snap["conversation.assignee"] = user.pk
            done.append(f"assigned to {getattr(getattr(user, 'agent', None), 'display_name', user.username)}")
        elif kind == "set_status":
            inbox.update_conversation(conversation, None, status=action["status"], reason=label)
            snap["conversation.status"] = action["status"]
            done.append(f"status {action['status']}")
        elif kind == "set_priority":
            inbox.update_conversation(conversation, None, priority=action["priority"], reason=label)
            snap["conversation.priority"] = action["priority"]
            done.append(f"priority {Conversation.Priority(action['priority']).label}")
        elif kind in ("add_tags", "remove_tags"):
            current = set(conversation.tags.values_list("name", flat=True))
            new = current | set(action["tags"]) if kind == "add_tags" else current - set(action["tags"])
            inbox.update_conversation(conversation, None, tags=sorted(new), reason=label)
            snap["conversation.tags"] = tuple(sorted(new))
            done.append(("tagged " if kind == "add_tags" else "untagged ") + ", ".join(action["tags"]))
        elif kind == "mark_spam":
            current = set(conversation.tags.values_list("name", flat=True))
            inbox.update_conversation(conversation, None, tags=sorted(current | {SPAM_TAG}), status="closed",
                                      reason=label)
            snap["conversation.status"], snap["conversation.tags"] = "closed", tuple(sorted(current | {SPAM_TAG}))
            done.append("marked as spam")
        elif kind == "reply_template":
            done.append(_reply_template(conversation, action, snap))
        elif kind == "reply_article":
            done.append(_reply_article(conversation, action, snap))
        elif kind == "note":
            from resonanz.knowledge.bot import bot_user

            inbox.add_note(conversation, bot_user(), _fill(action["text"], conversation))
            done.append("internal note")
        elif kind == "notify_email":
            done.append(_notify_email(rule, action, event, why))
        elif kind == "webhook":
            done.append(_webhook(rule, action, event, why))
        elif kind == "create_conversation":
            from resonanz.listening.actions import turn_into_conversation

            event.conversation = turn_into_conversation(event.post)
            snap.update({"conversation.id": event.conversation.pk, "conversation.team": event.conversation.team_id,
                         "conversation.status": event.conversation.status})
            done.append("turned into a conversation")
        elif kind == "stop":
            stop = True
    return done, stop


def _assign_within(conversation, team, strategy: str, reason: str, snap: dict) -> str:
    user = pick_agent(team, strategy)
    if user is None:
        return f"nobody in {team.name} available"
    inbox.assign(conversation, user, None, reason=reason)
    snap["conversation.assignee"] = user.pk
    return f"assigned to {user.agent.display_name} ({strategy.replace('_', ' ')})"


def pick_agent(team: Team, strategy: str = "least_open"):
    """An available agent of the team below their maximum load: fewest open conversations, or round robin."""
    candidates = list(User.objects.filter(is_active=True, agent__teams=team, agent__is_available=True,
                                          agent__is_bot=False).select_related("agent").order_by("id").distinct())
    if not candidates:
        return None
    load = dict(Conversation.objects.filter(assignee__in=candidates, status__in=Conversation.OPEN_STATUSES)
                .values_list("assignee").annotate(n=Count("id")).values_list("assignee", "n"))
    free = [u for u in candidates if load.get(u.pk, 0) < u.agent.max_load]
    if not free:
        return None
    if strategy == "round_robin":
        with transaction.atomic():
            state, _ = AutomationState.objects.select_for_update().get_or_create(key=f"round_robin:{team.pk}")
            last = int(state.value or 0)
            chosen = next((u for u in free if u.pk > last), free[0])
            state.value = str(chosen.pk)
            state.save(update_fields=["value"])
        return chosen
    return min(free, key=lambda u: (load.get(u.pk, 0), u.pk))


def _fill(text: str, conversation) -> str:
    contact = conversation.contact
    return text.format_map(_Placeholders({
        "name": contact.name or "", "reference": conversation.reference, "subject": conversation.subject or "",
    }))


def _reply_template(conversation, action: dict, snap: dict) -> str:
    from resonanz.knowledge.bot import bot_user

    language = snap.get("analysis.language")
    text = action.get(f"text_{language}") or action["text"]
    inbox.send_reply(conversation, bot_user(), _fill(text, conversation))
    return "answered with a template"


def _reply_article(conversation, action: dict, snap: dict) -> str:
    from resonanz.knowledge.bot import bot_user, fit_to_channel
    from resonanz.knowledge.models import Article

    article = Article.objects.get(pk=action["article"])
    language = snap.get("analysis.language")
    if language in ("de", "en") and article.language != language:
        translation = article.translations().filter(language=language, status="published",
                                                    visibility="public").first()
        article = translation or article
    if not article.is_live:
        raise ActionError(f"The article “{article.title}” is no longer published.")
    inbox.send_reply(conversation, bot_user(), fit_to_channel(article, conversation.channel))
    return f"answered with “{article.title}”"


def event_payload(rule: Rule, event: Event, why: str) -> dict:
    snap = event.snapshot
    conversation = event.conversation
    return {
        "event": "rule.matched", "rule": {"id": rule.pk, "name": rule.name}, "trigger": event.trigger,
        "event_key": event.key, "reason": why,
        "conversation": {"id": conversation.pk, "reference": conversation.reference,
                         "subject": conversation.subject, "team": conversation.team_id,
                         "status": conversation.status, "priority": conversation.priority,
                         "url": f"{settings.RESONANZ_BASE_URL.rstrip('/')}/inbox/conversations/{conversation.pk}/"}
        if conversation else None,
        "post": {"id": event.post.pk, "link": getattr(event.post, "link", "")} if event.post is not None else None,
        "message": {"id": snap.get("message.id"), "text": snap.get("message.text", "")[:2000]},
        "analysis": {"language": snap.get("analysis.language"), "sentiment": snap.get("analysis.sentiment"),
                     "intents": list(snap.get("analysis.intents") or ()),
                     "intent_confidence": snap.get("analysis.intent_confidence") or {},
                     "urgency": snap.get("analysis.urgency")},
    }


def _notify_email(rule: Rule, action: dict, event: Event, why: str) -> str:
    to = action.get("to")
    if not to:
        team_id = action.get("team") or (event.conversation.team_id if event.conversation else None)
        team = Team.objects.filter(pk=team_id).first() if team_id else None
        if team is None or not team.email:
            raise ActionError("No address to notify: the team has no email address.")
        to = team.email
    payload = event_payload(rule, event, why)
    subject = f"[Resonanz] {rule.name}" + (f" · {event.conversation.reference}" if event.conversation else "")
    body = (f"{why}\n\n{payload['message']['text'][:1000]}\n\n"
            + (payload["conversation"]["url"] if payload["conversation"] else (payload["post"] or {}).get("link", "")))
    transaction.on_commit(lambda: _send_later("email", rule.pk, {"to": to, "subject": subject, "body": body},
                                              event.conversation.pk if event.conversation else None))
    return f"notified {to}"


def _webhook(rule: Rule, action: dict, event: Event, why: str) -> str:
    body = json.dumps(event_payload(rule, event, why), ensure_ascii=False, sort_keys=True, default=str)
    transaction.on_commit(lambda: _send_later("webhook", rule.pk, {"url": action["url"], "body": body},
                                              event.conversation.pk if event.conversation else None))
    return f"webhook {action['url'].split('/')[2]}"


def _send_later(kind: str, rule_id: int, data: dict, conversation_id: int | None) -> None:
    from resonanz.automation.tasks import send_notification

    try:
        send_notification.delay(kind, rule_id, data, conversation_id)
    except Exception:  # broker down: send in this process rather than lose it
        log.warning("broker unreachable; sending %s of rule %s here", kind, rule_id, exc_info=True)
        send_notification(kind, rule_id, data, conversation_id)


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def deliver_notification(kind: str, rule_id: int, data: dict, conversation_id: int | None) -> None:
    """Send an email or webhook of a rule; a failure switches the rule off and is reported."""
    rule = Rule.objects.filter(pk=rule_id).first()
    try:
        if kind == "email":
            send_mail(data["subject"], data["body"], None, [data["to"]], fail_silently=False)
        else:
            action = next((a for a in (rule.actions if rule else []) if a["type"] == "webhook"
                           and a["url"] == data["url"]), None)
            if action is None:
                return  # the rule changed meanwhile; its new version decides next time
            body = data["body"].encode()
            response = outbound.post(data["url"], data=body, timeout=10, headers={
                "Content-Type": "application/json", "User-Agent": "Resonanz-Webhook/1",
                "X-Resonanz-Signature": sign(action["secret"], body), "X-Resonanz-Rule": str(rule_id)})
            if response.status_code >= 300:
                raise ActionError(f"the webhook answered HTTP {response.status_code}")
    except Exception as exc:
        log.exception("%s of rule %s failed", kind, rule_id)
        if rule is not None:
            conversation = Conversation.objects.filter(pk=conversation_id).first() if conversation_id else None
            _switch_off(rule, exc, Event(f"{kind}:{rule_id}", kind, {}, conversation))
