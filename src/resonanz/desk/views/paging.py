"""A page of inbox search results found by walking the inbox (``inbox.search.Search.walk``).

It answers what the templates ask of Django's ``Page`` (number, neighbours, the rows) without a total: a
search whose words occur in most conversations is not counted, because counting is what made it slow.
"""

from __future__ import annotations

from types import SimpleNamespace

from django.db.models import QuerySet

from resonanz.core.params import as_int

PAGE_SIZE = 50
MAX_PAGE = 200  # a walk reads every earlier page; deeper than this, narrow the search instead


class WalkPage:
    paginator = SimpleNamespace(num_pages=None, count=None)

    def __init__(self, object_list: list, number: int, has_next: bool):
        self.object_list = object_list
        self.number = number
        self._has_next = has_next

    @classmethod
    def of(cls, search, ordered: QuerySet, number, per_page: int | None = None) -> WalkPage:
        per_page = per_page or PAGE_SIZE
        number = min(as_int(number, minimum=1) or 1, MAX_PAGE)
        start = (number - 1) * per_page
        ids = search.walk(ordered, start, start + per_page + 1)
        return cls(ids[:per_page], number, len(ids) > per_page and number < MAX_PAGE)

    def __iter__(self):
        return iter(self.object_list)

    def __len__(self) -> int:
        return len(self.object_list)

    def has_next(self) -> bool:
        return self._has_next

    def has_previous(self) -> bool:
        return self.number > 1

    def has_other_pages(self) -> bool:
        return self.has_next() or self.has_previous()

    def next_page_number(self) -> int:
        return self.number + 1

    def previous_page_number(self) -> int:
        return self.number - 1
