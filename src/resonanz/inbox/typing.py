"""Who is typing in a conversation right now: the customer in the chat widget, or an agent in the desk.

Typing is a passing signal, not history, so it lives in the cache (a few seconds) rather than in the event log:
the embedded default's in-memory cache serves its one web process; several web processes need a shared cache
(``RESONANZ_CACHE_URL``, e.g. Redis), as the rate limits do.
"""

from __future__ import annotations

from django.core.cache import cache
from django.utils import timezone

from resonanz.core.sanitize import clean_text

#: seconds a typing signal lasts; the typing side repeats it every few seconds while keys are pressed
TTL = 6
SIDES = ("customer", "agent")


def _key(conversation_id: int, side: str) -> str:
    return f"typing:{side}:{conversation_id}"


def note_typing(conversation_id: int, side: str, *, name: str = "", preview: str = "") -> None:
    """``side`` is typing now; ``preview`` (the text so far) only where the channel shows it to agents."""
    if side not in SIDES:
        raise ValueError(side)
    cache.set(_key(conversation_id, side), {"name": clean_text(name, 80), "preview": clean_text(preview, 500),
                                            "at": timezone.now().isoformat()}, TTL)


def stop_typing(conversation_id: int, side: str) -> None:
    cache.delete(_key(conversation_id, side))


def typing(conversation_id: int, side: str) -> dict | None:
    """``{"name", "preview", "at"}`` while ``side`` is typing, else None."""
    return cache.get(_key(conversation_id, side))
