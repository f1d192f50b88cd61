"""Ids in API paths and query strings: a bad one is a 4xx that names it, never a database error."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter
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
        if value is None:
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


def choice_params(params, **allowed) -> None:
    """400 naming each query parameter that is set to a value outside its documented choices
    (``choice_params(params, status=["open", "closed"])``): a typo is an error, not a silently ignored filter."""
    errors = {}
    for name, values in allowed.items():
        value = params.get(name)
        choices = [str(v) for v in values]
        if value is not None and value not in choices:  # "" too: it is none of them
            errors[name] = [f"{name} must be one of {', '.join(choices)}."]
    if errors:
        raise ValidationError(errors)


BOOLEAN_WORDS = ("true", "false", "1", "0")  # what a boolean query parameter may say


def id_query(name: str, description: str = "") -> OpenApiParameter:
    """A query parameter that takes an id, documented with the range ``id_params`` accepts."""
    return OpenApiParameter(name, {"type": "integer", "minimum": 1, "maximum": MAX_ID}, description=description)


def choice_query(name: str, values, description: str = "", required: bool = False) -> OpenApiParameter:
    return OpenApiParameter(name, str, enum=[str(v) for v in values], description=description, required=required)
