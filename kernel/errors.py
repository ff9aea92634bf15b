"""Domain errors. The HTTP layer maps them to ``{"error": code, "detail": sentence}``."""

from __future__ import annotations

import math
from typing import Any


class TaptrailError(Exception):
    status = 400
    code = "bad_request"
    retry_after: int | None = None  # seconds; sent as Retry-After when set (429, 503)

    def __init__(self, detail: str, *, fields: list[dict[str, Any]] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.fields = fields


class NotFound(TaptrailError):
    status = 404
    code = "not_found"


class Forbidden(TaptrailError):
    status = 403
    code = "forbidden"


class Unauthorized(TaptrailError):
    status = 401
    code = "unauthorized"


class Conflict(TaptrailError):
    status = 409
    code = "conflict"


class Invalid(TaptrailError):
    status = 422
    code = "validation_error"


class TooMany(TaptrailError):
    """429. ``retry_after``: whole seconds (at least 1) until trying again can succeed; the
    HTTP layer sends it as the ``Retry-After`` header of every 429."""

    status = 429
    code = "rate_limited"

    def __init__(
        self, detail: str, *, retry_after: float, fields: list[dict[str, Any]] | None = None
    ) -> None:
        super().__init__(detail, fields=fields)
        self.retry_after = max(1, math.ceil(retry_after))


class Unavailable(TaptrailError):
    """A dependency (Redis) failed: try again shortly (answered with ``Retry-After``)."""

    status = 503
    code = "unavailable"

    def __init__(self, detail: str, *, retry_after: int | None = 1) -> None:
        super().__init__(detail)
        self.retry_after = 1 if retry_after is None else retry_after
