"""Errors that actions raise for bad input: the message says what to do."""

from __future__ import annotations


class ActionError(Exception):
    """A requested change is not possible; ``field`` names the input at fault, if one is."""

    #: the HTTP status the API answers with: 400 for bad input, 409 when the data's state forbids it
    status = 400

    def __init__(self, message: str, field: str | None = None, *, status: int | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        if status is not None:
            self.status = status

    def as_dict(self) -> dict:
        return {self.field or "detail": [self.message] if self.field else self.message}
