"""Reading numbers from outside (query strings, payloads): "²" and "٣" are digits to ``str.isdigit`` but not ids."""

from __future__ import annotations

MAX_ID = 2**63 - 1  # the largest primary key both databases store


def as_int(value, *, minimum: int = 0, maximum: int = MAX_ID) -> int | None:
    """An ASCII whole number within bounds, else None: a filter with a bad id filters nothing, it never 500s."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    else:
        text = str(value if value is not None else "").strip()
        sign = text[:1] == "-"
        digits = text[1:] if sign else text
        if not digits or not digits.isascii() or not digits.isdigit() or len(digits) > 19:
            return None
        number = -int(digits) if sign else int(digits)
    return number if minimum <= number <= maximum else None


def is_id(value) -> bool:
    return as_int(value, minimum=1) is not None
