"""Pages of API lists: ``?page=`` is a whole number from 1, as the schema says; anything else is the
documented 404 ("Invalid page."), like a page past the end. DRF read an empty ``page`` as page 1 and
``last`` as the last page, neither of which the schema's ``integer`` allows."""

from __future__ import annotations

from rest_framework.exceptions import NotFound
from rest_framework.pagination import PageNumberPagination


class Pages(PageNumberPagination):
    last_page_strings = ()

    def get_page_number(self, request, paginator):
        if request.query_params.get(self.page_query_param) == "":
            raise NotFound(self.invalid_page_message.format(page_number="", message="empty"))
        return super().get_page_number(request, paginator)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_query_param:
                parameter["schema"] = {**parameter["schema"], "minimum": 1}
        return parameters
