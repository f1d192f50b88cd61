"""Ids in API paths and query strings: a bad one is a 4xx that names it, never a database error."""

from __future__ import annotations

from rest_framework.exceptions import ValidationError
from rest_framework.routers import DefaultRouter

from resonanz.core.converters import ID_PATTERN
from resonanz.core.params import MAX_ID, as_int


class IdRouter(DefaultRouter):
    """Detail routes match only ids that fit a key: ``/api/contacts/abc/`` and ``/api/contacts/²/`` are 404."""

    def get_lookup_regex(self, viewset, lookup_prefix=""):
        lookup_field = getattr(viewset, "lookup_field", "pk")
        lookup_url_kwarg = getattr(viewset, "lookup_url_kwarg", None) or lookup_field
        pattern = getattr(viewset, "lookup_value_regex", ID_PATTERN)
        return f"(?P<{lookup_prefix}{lookup_url_kwarg}>{pattern})"


def id_params(params, *names: str, words: tuple[str, ...] = ()) -> dict[str, int | str]:
    """The given query parameters that are set, as ids (or one of ``words``); 400 naming each bad one."""
    found: dict[str, int | str] = {}
    errors = {}
    for name in names:
        value = params.get(name)
        if value in (None, ""):
            continue
        if value in words:
            found[name] = value
            continue
        number = as_int(value, minimum=1)
        if number is None:
            hint = f" or one of {', '.join(words)}" if words else ""
            errors[name] = [f"{name} must be an id (a whole number from 1 to {MAX_ID}){hint}."]
        else:
            found[name] = number
    if errors:
        raise ValidationError(errors)
    return found


def json_object(request) -> dict:
    """The request body as a mapping: a list or a bare value is refused with a 400 (not a 500 on ``.get``)."""
    from rest_framework.exceptions import ValidationError

    if not isinstance(request.data, dict):
        raise ValidationError({"detail": "Send a JSON object with the fields this endpoint documents."})
    return request.data
