"""URL converters: ids in paths are ASCII numbers that fit a database key.

Django's ``<int:pk>`` matches any run of digits, so ``/contacts/99999999999999999999/`` reaches the
database and fails there (SQLite raises OverflowError: a 500). ``<id:pk>`` matches at most 18 digits,
so a path that cannot name a row is a plain 404 before any view runs.
"""

from __future__ import annotations

from django.urls import register_converter

ID_PATTERN = "[0-9]{1,18}"


class IdConverter:
    regex = ID_PATTERN

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value) -> str:
        return str(int(value))


def register() -> None:
    register_converter(IdConverter, "id")
