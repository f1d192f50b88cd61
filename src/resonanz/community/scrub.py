"""Remove a customer's personal data from a support conversation before it is published in the community."""

from __future__ import annotations

import re

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
PHONE = re.compile(r"\+?\d[\d ()/-]{6,}\d")
NUMBER_LIKE = re.compile(r"\b(?:[A-Z]{2}\d{2}[ ]?(?:\d{4}[ ]?){3,5}\d{0,4}|\d{6,})\b")  # IBANs, order/customer numbers
GREETING = re.compile(r"^(hallo|hi|hello|guten tag|dear|liebe[rs]?|sehr geehrte[rs]?)\b[^\n]*\n", re.IGNORECASE)
SIGN_OFF = re.compile(r"\n(viele grüße|mit freundlichen grüßen|beste grüße|lg|best regards|regards|thanks|danke)"
                      r"[\s\S]*$", re.IGNORECASE)


def scrub(text: str, names: list[str] = ()) -> str:
    """The text without addresses, phone and account numbers, greetings, sign-offs and the customer's names."""
    text = (text or "").strip()
    text = GREETING.sub("", text + "\n").strip()
    text = SIGN_OFF.sub("", "\n" + text).strip()
    text = EMAIL.sub("[…]", text)
    text = PHONE.sub("[…]", text)
    text = NUMBER_LIKE.sub("[…]", text)
    for name in names:
        for part in {p for p in re.split(r"\s+", name or "") if len(p) >= 3}:
            text = re.sub(rf"\b{re.escape(part)}\b", "[…]", text, flags=re.IGNORECASE)
    return text
