"""Domain errors raised by services; the API maps them to the error body of API.md.

Services raise these instead of DRF exceptions so they stay usable from tasks, commands and
the web pages. Each error carries one or more problems ``{"field", "code", "message", ...}``.
"""

from __future__ import annotations

from typing import Any


class MolaError(Exception):
    status = 400
    default_code = "invalid"

    def __init__(
        self,
        message: str = "",
        *,
        code: str | None = None,
        field: str | None = None,
        problems: list[dict[str, Any]] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(message or (problems[0]["message"] if problems else ""))
        if problems is None:
            problems = [
                {"field": field, "code": code or self.default_code, "message": message, **extra}
            ]
        self.problems = problems

    def prefixed(self, prefix: str) -> MolaError:
        """The same error with every field named under ``prefix`` (e.g. ``examples.3``)."""
        for problem in self.problems:
            field = problem.get("field")
            problem["field"] = f"{prefix}.{field}" if field else prefix
        return self


class InvalidInput(MolaError):
    status = 400


class NotAllowed(MolaError):
    status = 403
    default_code = "permission_denied"


class NotFound(MolaError):
    status = 404
    default_code = "not_found"


class Conflict(MolaError):
    status = 409
    default_code = "conflict"


class TooLarge(MolaError):
    status = 413
    default_code = "too_large"


class RateLimited(MolaError):
    status = 429
    default_code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int, **kwargs: Any) -> None:
        super().__init__(message, retry_after=retry_after, **kwargs)
        self.retry_after = retry_after
