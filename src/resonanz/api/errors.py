"""API errors are JSON that name the failing fields."""

from __future__ import annotations

from django.http import Http404
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from resonanz.core.errors import ActionError


def exception_handler(exc, context):
    if isinstance(exc, ActionError):
        return Response(exc.as_dict(), status=exc.status)
    if isinstance(exc, Http404):
        return Response({"detail": "Not found."}, status=status.HTTP_404_NOT_FOUND)
    return drf_exception_handler(exc, context)
