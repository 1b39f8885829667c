"""Request checks every view gets before it runs, and each answer's CPU time.

Numbers past 64 bits in a path or a query never reach the database: SQLite raises
``OverflowError`` on them (a 500), and no row can have such an id. An id in the path is
"not found"; a number in a query parameter is a 400 naming the parameter.
"""

from __future__ import annotations

import re
import time

from django.http import Http404, JsonResponse

from mola.api.parsers import INT_MAX, INT_MIN

_LONG_NUMBER = re.compile(r"-?\d{19,}")  # shorter ones always fit in 64 bits


def _error(status: int, code: str, message: str, field: str | None = None) -> JsonResponse:
    return JsonResponse(
        {"errors": [{"field": field, "code": code, "message": message}]}, status=status
    )


class BoundedNumbersMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        for name, values in request.GET.lists():
            for value in values:
                if any(not INT_MIN <= int(n) <= INT_MAX for n in _LONG_NUMBER.findall(value)):
                    message = "Numbers must lie between -2^63 and 2^63 - 1."
                    return _error(400, "out_of_range", message, field=name)
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        for value in (*view_args, *view_kwargs.values()):
            if isinstance(value, int) and not INT_MIN <= value <= INT_MAX:
                if request.path.startswith("/api/"):
                    return _error(404, "not_found", "Not found.")
                raise Http404("No such object.")
        return None


class ServerTimingMiddleware:
    """``Server-Timing: cpu;dur=<ms>, total;dur=<ms>`` on every answer: the CPU time of the
    thread that made it (rendering included) and its wall time. On a busy machine the wall
    time measures the neighbours too; the CPU time is what the request itself cost (the
    benchmarks read it)."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        cpu, wall = time.thread_time(), time.perf_counter()
        response = self.get_response(request)
        cpu, wall = time.thread_time() - cpu, time.perf_counter() - wall
        response["Server-Timing"] = f"cpu;dur={cpu * 1000:.2f}, total;dur={wall * 1000:.2f}"
        return response
