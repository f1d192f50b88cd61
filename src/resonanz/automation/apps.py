from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AutomationConfig(AppConfig):
    """Rules, assignment, SLAs on business hours, approval of replies and guideline checks."""

    name = "resonanz.automation"
    verbose_name = _("Automation")

    def ready(self) -> None:
        from resonanz.automation.approval import review_reply
        from resonanz.core import hooks
        from resonanz.core.events import subscribe
        from resonanz.core.pipeline import register_step

        # After understanding (conditions read its analysis), before knowledge (the bot sees the routing).
        register_step("resonanz.automation.steps.apply_rules", kinds=("message", "post"))
        subscribe("conversation.updated", _on_conversation_updated)
        # Approval of replies and guideline checks, inside inbox.actions.send_reply.
        hooks.register("reply_check", review_reply)

    @staticmethod
    def on_setup(stdout) -> None:
        from resonanz.automation.defaults import ensure_defaults

        created = ensure_defaults()
        stdout.write(f"Automation: {created} default rules created." if created else "Automation: rules in place.")


def _on_conversation_updated(event: str, conversation_id: int, fields=(), **_payload) -> None:
    from resonanz.automation import sla
    from resonanz.automation.models import Rule
    from resonanz.automation.ruleset import ruleset
    from resonanz.automation.tasks import run_update_rules
    from resonanz.inbox.models import Conversation

    if set(fields) & {"team", "priority"}:
        conversation = Conversation.objects.filter(pk=conversation_id).first()
        if conversation is not None:
            sla.refresh(conversation)
    if ruleset(frozenset({Rule.Trigger.CONVERSATION_UPDATED})).rules:  # compiled and cached, no query per event
        try:
            run_update_rules.delay(conversation_id)
        except Exception:  # broker down: run here, it is quick
            run_update_rules(conversation_id)
