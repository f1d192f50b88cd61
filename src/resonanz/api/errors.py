"""API errors are JSON that name the failing fields."""

from __future__ import annotations

from django.http import Http404
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from resonanz.core.errors import ActionError


def _codes(value) -> set[str]:
    if isinstance(value, dict):
        return set().union(*(_codes(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(_codes(v) for v in value)) if value else set()
    return {str(value)}


def exception_handler(exc, context):
    if isinstance(exc, ActionError):
        return Response(exc.as_dict(), status=exc.status)
    if isinstance(exc, Http404):
        return Response({"detail": "Not found."}, status=status.HTTP_404_NOT_FOUND)
    response = drf_exception_handler(exc, context)
    if isinstance(exc, ValidationError) and _codes(exc.get_codes()) == {"unique"}:
        # Well-formed input that clashes with an existing object (a name taken): the state conflicts, the
        # request is not malformed. 409, as every write documents, with the same body naming the field.
        response.status_code = status.HTTP_409_CONFLICT
    return response
