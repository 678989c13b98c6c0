"""API errors as the contract says: 400 with field messages; 401/403/404/409 with `detail`."""

from __future__ import annotations

import logging

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.db.models import ProtectedError, RestrictedError
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from sharedsvc.errors import (
    CONFLICT_GENERIC,
    SERVER_ERROR,
    Conflict,
    Forbidden,
    constraint_message,
)
from sharedsvc.request_context import request_id

logger = logging.getLogger(__name__)


def validation_detail(exc: DjangoValidationError) -> dict:
    if hasattr(exc, "error_dict"):
        return {
            ("non_field_errors" if field == "__all__" else field): [str(m) for m in messages]
            for field, messages in exc.message_dict.items()
        }
    return {"non_field_errors": [str(m) for m in exc.messages]}


def exception_handler(exc, context):
    request = context.get("request")
    if getattr(getattr(request, "accepted_renderer", None), "format", None) == "csv":
        # An error is a message for a person or a script, not a one-row spreadsheet.
        request.accepted_renderer = JSONRenderer()
        request.accepted_media_type = JSONRenderer.media_type
    if isinstance(exc, DjangoValidationError):
        exc = ValidationError(validation_detail(exc))
    elif isinstance(exc, Conflict):
        return Response({"detail": exc.message}, status=status.HTTP_409_CONFLICT)
    elif isinstance(exc, Forbidden):
        return Response({"detail": exc.message}, status=status.HTTP_403_FORBIDDEN)
    elif isinstance(exc, ProtectedError | RestrictedError):
        return Response({"detail": str(exc.args[0])}, status=status.HTTP_409_CONFLICT)
    elif isinstance(exc, IntegrityError):
        # Services turn constraint failures into messages; this is the net for a write
        # that slipped past them (a race), so it is still a 409 and not a 500.
        return Response({"detail": _integrity_message(exc, context)}, status=409)
    response = drf_exception_handler(exc, context)
    if response is None:
        # An error nobody foresaw: the API still answers JSON, with a reference that is
        # also on the server's log line, so a person can report it and we can find it.
        reference = request_id.get() or getattr(request, "request_id", "")
        logger.error("Unhandled error in the API (reference %s)", reference, exc_info=exc)
        return Response(
            {"detail": SERVER_ERROR, "reference": reference},
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    return response


def _integrity_message(exc: IntegrityError, context) -> str:
    queryset = getattr(context.get("view"), "queryset", None)
    if queryset is None:
        return CONFLICT_GENERIC
    return constraint_message(queryset.model, exc)
