"""Running rules: ``run_for_message`` (pipeline step), ``run_for_post`` (listening),
``run_time_rules`` / ``run_sla_rules`` (beat), ``run_for_update`` (a person changed a conversation).

Each builds one snapshot dict, matches the compiled rule list against it and applies the matching rules
in order. A rule acts at most once per event: the RuleRun row with its unique (rule, event_key) is
written in the same transaction as the rule's changes. A rule that fails is rolled back, switched off
and reported; the next rule still runs.
"""

from __future__ import annotations

import logging

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from resonanz.automation import effects, engine, notifications, sla
from resonanz.automation.effects import Act, Event
from resonanz.automation.fields import (
    EXPENSIVE,
    snapshot_for_conversation,
    snapshot_for_message,
    snapshot_for_post,
)
from resonanz.automation.models import ConversationSLA, Rule, RuleRun
from resonanz.automation.ruleset import RuleSet, ruleset
from resonanz.core.events import publish
from resonanz.inbox import actions as inbox
from resonanz.inbox.models import Conversation, ConversationEvent, Message

log = logging.getLogger("resonanz.automation")
UPDATE_KINDS = ("status_changed", "priority_changed", "team_changed", "assigned", "tags_changed")


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
    event = (ConversationEvent.objects.filter(conversation_id=conversation_id, kind__in=UPDATE_KINDS)
             .order_by("-id").first())
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
                notifications.switch_off(rule, exc, event)
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


def _act(rule: Rule, event: Event) -> tuple[RuleRun, bool] | None:
    """One rule's actions and its RuleRun in one transaction; None when it acted before or failed."""
    why = ", ".join(x for x in engine.explain(rule.conditions, event.snapshot) if x) or "always"
    act = Act(rule, event, why)
    try:
        with transaction.atomic():
            try:
                with transaction.atomic():
                    run = RuleRun.objects.create(rule=rule, event_key=event.key[:200], trigger=event.trigger,
                                                 conversation=event.conversation,
                                                 post_id=getattr(event.post, "pk", None))
            except IntegrityError:
                return None  # acted on this event before (a retry): never twice
            done = [line for action in rule.actions for line in effects.perform(action, act)]
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
        notifications.switch_off(rule, exc, event)
        return None
    if event.conversation is not None:
        try:
            with transaction.atomic():
                sla.refresh(Conversation.objects.get(pk=event.conversation.pk))
        except Exception:
            log.exception("SLA refresh after rule %s failed", rule.pk)
    publish("rule.applied", rule_id=rule.pk, run_id=run.pk,
            conversation_id=event.conversation.pk if event.conversation else None)
    return run, act.stop


def check_due(now=None, limit: int = 1000) -> dict[str, int]:
    """Raise warnings and breaches that are due; each once per conversation and target."""
    now = now or timezone.now()
    counts = {"warnings": 0, "breaches": 0}
    for target, done_field in (("first_response", "first_response_at"), ("resolution", "resolved_at")):
        for phase, flag, moment in (("breached", f"{target}_breached", f"{target}_due"),
                                    ("warning", f"{target}_warned", f"{target}_warn_at")):
            rows = (ConversationSLA.objects.select_related("conversation")
                    .filter(**{flag: False, f"{moment}__lte": now,
                               f"conversation__{done_field}__isnull": True,
                               "conversation__status__in": Conversation.OPEN_STATUSES})
                    .order_by(moment)[:limit])
            for due_sla in rows:
                updated = ConversationSLA.objects.filter(pk=due_sla.pk, **{flag: False}).update(
                    **{flag: True, **({f"{target}_warned": True} if phase == "breached" else {})})
                if not updated:
                    continue  # another worker raised it
                due = getattr(due_sla, f"{target}_due")
                label = target.replace("_", " ")
                if phase == "breached":
                    counts["breaches"] += 1
                    inbox.record(due_sla.conversation, "sla_breached", target=target, due=due.isoformat() if due else None,
                           reason=f"{label} was due {timezone.localtime(due):%Y-%m-%d %H:%M}")
                else:
                    counts["warnings"] += 1
                    inbox.record(due_sla.conversation, "sla_warning", target=target, due=due.isoformat() if due else None,
                           reason=f"{label} due {timezone.localtime(due):%Y-%m-%d %H:%M}")
                run_sla_rules(due_sla.conversation, target, phase)
    return counts
