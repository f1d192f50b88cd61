"""Named hooks: how a lower app lets the apps above it take part in one of its writes.

Domain events (core.events) tell others after a change committed. A hook runs *inside* the write,
in its transaction, so the apps above can keep their own rows consistent with it: when crm merges two
contacts, the inbox moves their conversations in the same transaction; when the inbox is about to send
a reply, automation may hold it for approval. The lower app names the hook and calls ``run``; the apps
above register in their ``AppConfig.ready``. Registration order is INSTALLED_APPS order.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

_hooks: dict[str, list[Callable[..., Any]]] = defaultdict(list)

#: the hooks that exist, with what their handlers receive (documentation and a guard against typos)
KNOWN = {
    "contact_merged": "keep, drop, actor: move rows of `drop` to `keep` (inside the merge's transaction)",
    "contact_erased": "contact, actor: delete or anonymise what the app keeps about the contact",
    "contact_exported": "contact: return a crm.privacy.ExportPart with what the app keeps about the contact",
    "conversations_anonymised": "conversation_ids, message_ids: remove what the app keeps that tells who or what",
    "reply_check": "conversation, author, text, status, is_public, attachments (how many files): raise ActionError "
                   "to hold or refuse a reply",
    "topic_rising": "label ('complaint' or 'entity:Name'), now: True or False if the app watches that topic's "
                    "volume (the rules' “rising topic”), None if it does not",
}


def register(name: str, handler: Callable[..., Any]) -> None:
    if name not in KNOWN:
        raise KeyError(f"unknown hook {name!r}; known: {', '.join(sorted(KNOWN))}")
    if handler not in _hooks[name]:
        _hooks[name].append(handler)


def run(name: str, *, reverse: bool = False, **kwargs: Any) -> list[Any]:
    """Call every handler in order; an exception propagates and rolls the caller's write back.

    ``reverse``: the highest app first, for tear-downs (an erasure) where the apps above must still
    find the rows below that they hang on (a post found through its conversation)."""
    if name not in KNOWN:
        raise KeyError(f"unknown hook {name!r}")
    handlers_ = list(_hooks[name])
    if reverse:
        handlers_.reverse()
    return [handler(**kwargs) for handler in handlers_]


def handlers(name: str) -> list[Callable[..., Any]]:
    return list(_hooks[name])
