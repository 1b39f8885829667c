"""One exception handler turns every error into ``{"errors": [{field, code, message}]}``."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from django.http import Http404, JsonResponse
from django.views.defaults import bad_request, page_not_found
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from mola.errors import MolaError, RateLimited


def _flatten(detail: Any, field: str | None) -> list[dict[str, Any]]:
    """DRF nests errors as dicts of lists; the contract wants a flat list with dotted fields."""
    if isinstance(detail, dict):
        problems: list[dict[str, Any]] = []
        for key, value in detail.items():
            name = None if key in ("non_field_errors", "detail") else str(key)
            path = f"{field}.{name}" if field and name else (name or field)
            problems.extend(_flatten(value, path))
        return problems
    if isinstance(detail, list):
        problems = []
        for index, value in enumerate(detail):
            nested = isinstance(value, dict | list)
            path = (f"{field}.{index}" if field else str(index)) if nested else field
            problems.extend(_flatten(value, path))
        return problems
    code = getattr(detail, "code", None) or "invalid"
    return [{"field": field, "code": str(code), "message": str(detail)}]


def error_response(problems: list[dict[str, Any]], status_code: int, **headers: str) -> Response:
    response = Response({"errors": problems}, status=status_code)
    for name, value in headers.items():
        response[name] = value
    return response


log = logging.getLogger(__name__)

# Seconds a client is told to wait when the database is away (restarting, failing over, or
# SQLite's write lock held past its timeout): long enough for a restart, short for a person.
UNAVAILABLE_RETRY_AFTER = 5


def exception_handler(exc: Exception, context: dict) -> Response | None:
    if isinstance(exc, OperationalError | InterfaceError):
        # Nothing was written (the transaction rolled back); the request may be sent again.
        log.error("database unavailable: %s", exc, exc_info=exc)
        return error_response(
            [
                {
                    "field": None,
                    "code": "unavailable",
                    "message": "The database is unavailable for a moment; try again.",
                }
            ],
            status.HTTP_503_SERVICE_UNAVAILABLE,
            **{"Retry-After": str(UNAVAILABLE_RETRY_AFTER)},
        )
    if isinstance(exc, MolaError):
        headers = {}
        if isinstance(exc, RateLimited):
            headers["Retry-After"] = str(exc.retry_after)
        return error_response(exc.problems, exc.status, **headers)
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else exc.messages
        return error_response(_flatten(detail, None), status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # an unexpected error: let Django report it (JSON 500 via handler500)
    if isinstance(exc, exceptions.ValidationError):
        problems = _flatten(exc.detail, None)
    else:
        detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
        code = getattr(detail, "code", None) or getattr(exc, "default_code", "error")
        problems = [{"field": None, "code": str(code), "message": str(detail)}]
    response.data = {"errors": problems}
    return response


def json_not_found(request, exception=None):
    """JSON for the API's unknown paths, Django's usual page for the web pages'."""
    if not request.path.startswith("/api/"):
        return page_not_found(request, exception)
    return JsonResponse(
        {"errors": [{"field": None, "code": "not_found", "message": "Not found."}]}, status=404
    )


def json_server_error(request) -> JsonResponse:
    return JsonResponse(
        {"errors": [{"field": None, "code": "server_error", "message": "Server error."}]},
        status=500,
    )


def json_bad_request(request, exception=None):
    """Django's own 400s (a body past ``DATA_UPLOAD_MAX_MEMORY_SIZE`` read as a form, too
    many fields) in the API's error format: 413 for a body too large, 400 otherwise."""
    if not request.path.startswith("/api/"):
        return bad_request(request, exception)
    if isinstance(exception, RequestDataTooBig | TooManyFieldsSent):
        return JsonResponse(
            {"errors": [{"field": None, "code": "too_large", "message": str(exception)}]},
            status=413,
        )
    return JsonResponse(
        {"errors": [{"field": None, "code": "bad_request", "message": "Bad request."}]},
        status=400,
    )
