"""Typed failures of a social network call, so a driver can decide: retry later, wait, re-connect, give up."""

from __future__ import annotations

from datetime import datetime


class SocialError(Exception):
    """Any failure talking to a social network; `status` is the HTTP status where there was one."""

    def __init__(self, message: str, *, status: int | None = None, body: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.body = body[:2000]


class AuthenticationFailed(SocialError):
    """The token or app password was refused (revoked, expired, wrong): an administrator must re-connect."""


class NotFound(SocialError):
    """The post or account does not exist (any more): deleted, or never there."""


class Rejected(SocialError):
    """The network refused the request as invalid (too long, bad reference, unsupported media)."""


class RateLimited(SocialError):
    """The network asks us to wait until `reset_at` before calling again."""

    def __init__(self, message: str, *, reset_at: datetime, limit: int | None = None,
                 remaining: int | None = None, status: int | None = 429, body: str = "") -> None:
        super().__init__(message, status=status, body=body)
        self.reset_at = reset_at
        self.limit = limit
        self.remaining = remaining


class Unavailable(SocialError):
    """A passing problem: server error, timeout, dropped or truncated response. Try again later.

    For a write, `may_have_posted` is True when the request may have reached the server; the clients
    then check (or rely on an idempotency key) before they post again.
    """

    def __init__(self, message: str, *, status: int | None = None, body: str = "",
                 may_have_posted: bool = False) -> None:
        super().__init__(message, status=status, body=body)
        self.may_have_posted = may_have_posted


class InvalidResponse(Unavailable):
    """The server answered something that is not the documented shape (cut off, not JSON, wrong type)."""
