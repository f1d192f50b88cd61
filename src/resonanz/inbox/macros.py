"""Placeholders in canned replies: {customer_name}, {customer_first_name}, {agent_name}, {ticket}.

A plain lookup, not str.format: a macro's text comes from agents and must not reach attributes of objects.
Unknown placeholders stay as written so a typo is visible in the reply box before sending.
"""

from __future__ import annotations

import re

PLACEHOLDERS = ("customer_name", "customer_first_name", "agent_name", "agent_initials", "ticket", "subject")
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def values(conversation, agent_user) -> dict[str, str]:
    contact = conversation.contact
    name = (contact.name or "").strip() if contact else ""
    shown = name or (str(contact) if contact else "")  # a contact known only by handle is greeted by it
    profile = getattr(agent_user, "agent", None) if agent_user else None
    return {
        "customer_name": shown,
        "customer_first_name": name.split()[0] if name else shown,
        "agent_name": (profile.display_name if profile else "") or (agent_user.get_username() if agent_user else ""),
        "agent_initials": profile.initials if profile else "",
        "ticket": conversation.reference,
        "subject": conversation.subject or "",
    }


def render(text: str, conversation, agent_user) -> str:
    known = values(conversation, agent_user)
    return _PLACEHOLDER.sub(lambda m: known.get(m.group(1), m.group(0)), text)
