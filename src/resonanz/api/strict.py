"""JSON bodies are read as typed as the schema says: ``"5"`` is not an integer, ``0`` not a boolean, ``12`` not text.

DRF's fields were written for HTML forms, where every value arrives as text, so they convert: a CharField
takes the number 12 as "12", a BooleanField takes 0, "no" and "off", an IntegerField takes "5" and 5.0.
The published schema says ``string``, ``boolean``, ``integer``, and clients generated from it (and
schemathesis' negative-data check) rely on it, so a value of the wrong JSON type is a 400 that names the
field, as for any other invalid value. Values read from a form (the sign-in endpoint and replies with
files still take forms, where everything is text) keep DRF's conversion. Installed once by
``ApiConfig.ready``; the API is the only user of DRF.
"""

from __future__ import annotations

from django.http import QueryDict
from drf_spectacular.utils import extend_schema_field
from rest_framework import fields, relations, serializers

_installed = False


def _from_form(field) -> bool:
    """Whether the value came from a form body (a QueryDict), where every value is text."""
    return isinstance(getattr(field.root, "initial_data", None), QueryDict)


def _is_number(data) -> bool:
    return isinstance(data, (int, float)) and not isinstance(data, bool)


def _strict(cls, accepts, code: str = "invalid"):
    """Wrap ``cls.to_internal_value``: JSON values ``accepts`` refuses fail with ``code`` before converting."""
    convert = cls.to_internal_value

    def to_internal_value(self, data):
        if not _from_form(self) and not accepts(self, data):
            self.fail(code, input=data, data_type=type(data).__name__, input_type=type(data).__name__)
        return convert(self, data)

    to_internal_value.__doc__ = convert.__doc__
    cls.to_internal_value = to_internal_value


def _choice(field, data) -> bool:
    """A choice's JSON type must be the choice's own: 1 for an integer choice, "1" for a text one."""
    if data == "" and field.allow_blank:
        return True
    key = field.choice_strings_to_values.get(str(data), data)
    return type(key) is type(data) or (isinstance(key, str) and isinstance(data, str))


def install() -> None:
    """Make DRF's scalar fields refuse JSON values of another type (idempotent)."""
    global _installed
    if _installed:
        return
    _installed = True
    _strict(fields.CharField, lambda f, data: isinstance(data, str))  # EmailField, SlugField, URLField …
    _strict(fields.IntegerField, lambda f, data: isinstance(data, int) and not isinstance(data, bool))
    _strict(fields.FloatField, lambda f, data: _is_number(data))
    _strict(fields.DecimalField, lambda f, data: _is_number(data) or isinstance(data, str))
    _strict(fields.BooleanField, lambda f, data: isinstance(data, bool))
    _strict(fields.ChoiceField, _choice, code="invalid_choice")
    _strict(relations.ManyRelatedField, lambda f, data: isinstance(data, list), code="not_a_list")  # not {}
    _strict(relations.PrimaryKeyRelatedField,
            lambda f, data: isinstance(data, int) and not isinstance(data, bool), code="incorrect_type")


class TypedJSONField(serializers.JSONField):
    """A JSON value that must be an object or a list, documented in the schema with ``schema``.

    DRF's JSONField takes any JSON and the schema says nothing about it; these fields say what they take
    (``{"type": "object"}``, an array of objects …) and refuse anything else with a 400 naming the field."""

    default_error_messages = {"wrong_type": "Send {kind}."}  # API messages are English, as the others

    def __init__(self, *, schema: dict, **kwargs):
        self.json_type = dict if schema["type"] == "object" else list
        super().__init__(**kwargs)
        extend_schema_field(schema)(self)

    def to_internal_value(self, data):
        if not isinstance(data, self.json_type):
            self.fail("wrong_type", kind="an object" if self.json_type is dict else "a list")
        return super().to_internal_value(data)


#: any JSON object: the documented schema of TypedJSONField for free-form names and values
ANY_OBJECT = {"type": "object", "additionalProperties": {}}
