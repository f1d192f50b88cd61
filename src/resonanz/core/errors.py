"""Errors that actions raise for bad input: the message says what to do."""

from __future__ import annotations


class ActionError(Exception):
    """A requested change is not possible; ``field`` names the input at fault, if one is."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field

    def as_dict(self) -> dict:
        return {self.field or "detail": [self.message] if self.field else self.message}
