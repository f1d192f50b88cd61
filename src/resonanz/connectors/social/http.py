"""One HTTP call with the failure handling both networks share.

requests raises a different exception for every way a connection can go wrong; a driver only needs to know
whether to re-connect, wait, retry, or check before retrying a write. That mapping lives here once.
"""

from __future__ import annotations

import json
from typing import Any

import requests

from .errors import InvalidResponse, Unavailable

USER_AGENT = "Resonanz (+https://github.com/resonanz; social CRM)"


def perform(session: requests.Session, method: str, url: str, *, timeout: float, **kwargs: Any) -> requests.Response:
    """Send one request; transport failures become `Unavailable` (with `may_have_posted` for writes)."""
    write = method.upper() not in ("GET", "HEAD")
    headers = {"User-Agent": USER_AGENT, **kwargs.pop("headers", {})}
    try:
        response = session.request(method, url, timeout=timeout, headers=headers, **kwargs)
        response.content  # noqa: B018 - read the whole body now, so a cut-off body fails here
    except requests.ConnectTimeout as exc:
        raise Unavailable(f"could not connect to {url}: timed out") from exc
    except requests.ConnectionError as exc:
        # A refused connection never reached the server; a reset or cut-off one may have.
        reached = not _never_connected(exc)
        raise Unavailable(f"connection to {url} failed: {exc}", may_have_posted=write and reached) from exc
    except requests.Timeout as exc:
        raise Unavailable(f"{url} did not answer within {timeout:g} s", may_have_posted=write) from exc
    except requests.RequestException as exc:
        safe = getattr(exc, "message", None)  # core.outbound's guarded session: refused address or no answer
        if isinstance(safe, str) and type(exc).__name__ == "RefusedURL":
            raise Unavailable(safe, may_have_posted=False) from exc
        cut_off = isinstance(exc.__context__, requests.exceptions.ChunkedEncodingError
                             | requests.exceptions.ContentDecodingError)
        if isinstance(safe, str) and type(exc).__name__ == "Unreachable" and not cut_off:
            raise Unavailable(safe, may_have_posted=write) from exc
        # ChunkedEncodingError, ContentDecodingError: body cut off
        raise InvalidResponse(f"the answer from {url} was cut off: {exc}", may_have_posted=write) from exc
    return response


def _never_connected(exc: requests.ConnectionError) -> bool:
    text = repr(exc)
    return any(marker in text for marker in ("NewConnectionError", "Connection refused", "NameResolutionError"))


def json_body(response: requests.Response, *, write: bool = False) -> Any:
    """The response's JSON, or `InvalidResponse` when it is not JSON (a truncated body, an HTML error page)."""
    try:
        return json.loads(response.content)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidResponse(f"{response.url} answered {response.status_code} with something that is not JSON",
                              status=response.status_code, body=response.text[:500],
                              may_have_posted=write) from exc


def expect_dict(value: Any, url: str) -> dict:
    if not isinstance(value, dict):
        raise InvalidResponse(f"{url} answered with {type(value).__name__}, expected an object")
    return value
