"""Every error answers ``{"error": "<code>", "detail": "<sentence>"}`` (plus ``fields``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from kernel.db_errors import sqlstate
from kernel.errors import TaptrailError

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    503: "unavailable",
}


class ErrorOut(BaseModel):
    """Every error answer: a code, a sentence, and for validation the offending fields."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"error": "not_found", "detail": "no game 'x'"}]}
    )

    error: str
    detail: str
    fields: list[dict[str, str]] | None = None


def error_body(
    code: str, detail: str, fields: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {"error": code, "detail": detail}
    if fields is not None:
        body["fields"] = fields
    return body


def error_response(
    description: str,
    code: str | None = None,
    detail: str = "",
    fields: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """One documented error answer; with ``code``, an example body ``error_body(code, ...)``."""
    response: dict[str, Any] = {"model": ErrorOut, "description": description}
    if code is not None:
        example = error_body(code, detail, fields)
        response["content"] = {"application/json": {"example": example}}
    return response


def error_responses(
    described: Mapping[int, str | dict[str, Any]], *codes: int
) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for these status codes (all of ``described`` when none are named).
    Each is described by its sentence, or by a whole ``error_response`` (with an example)."""
    picked = {code: described[code] for code in codes or described}
    return {
        code: error_response(doc) if isinstance(doc, str) else doc for code, doc in picked.items()
    }


def _field_list(exc: RequestValidationError) -> list[dict[str, Any]]:
    out = []
    for err in exc.errors():
        if err.get("type") == "json_invalid":  # loc is ("body", <character position>)
            where = err.get("loc", ("body", "?"))[-1]
            reason = (err.get("ctx") or {}).get("error", "JSON decode error")
            out.append(
                {"field": "body", "message": f"not valid JSON: {reason} (at character {where})"}
            )
            continue
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path")]
        out.append({"field": ".".join(loc) or "body", "message": str(err.get("msg"))})
    return out


# The shape of every error answer, for the OpenAPI document (see ``document_errors``).
ERROR_SCHEMA: dict[str, Any] = {
    "title": "Error",
    "type": "object",
    "required": ["error", "detail"],
    "properties": {
        "error": {"type": "string", "description": "A code, e.g. validation_error"},
        "detail": {"type": "string", "description": "What was wrong, in a sentence"},
        "fields": {
            "type": "array",
            "description": "For validation errors: each offending field",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
}


def document_errors(schema: dict[str, Any]) -> dict[str, Any]:
    """FastAPI documents 422 answers as its own ``HTTPValidationError`` shape; ours are
    ``{"error", "detail", "fields"}`` (``install`` below): the document says so."""
    schemas = schema.get("components", {}).get("schemas", {})
    if "HTTPValidationError" in schemas:
        schemas["HTTPValidationError"] = ERROR_SCHEMA
        schemas.pop("ValidationError", None)
    return schema


# PostgreSQL: character_not_in_repertoire (a NUL in text), untranslatable_character.
TEXT_REJECTED = frozenset({"22021", "22P05"})


def _body_field(message: str) -> dict[str, Any]:
    return {"field": "body", "message": message}


def domain_error_response(exc: TaptrailError) -> JSONResponse:
    """The answer to a domain error (also given by ``api.board_lane`` outside FastAPI)."""
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else {}
    if exc.retry_after is not None:
        headers["Retry-After"] = str(exc.retry_after)
    return JSONResponse(
        error_body(exc.code, exc.detail, exc.fields), status_code=exc.status, headers=headers
    )


def install(app: FastAPI) -> None:
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        return document_errors(generate())

    app.openapi = openapi  # type: ignore[method-assign]

    @app.exception_handler(TaptrailError)
    async def _domain(_: Request, exc: TaptrailError) -> JSONResponse:
        return domain_error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        fields = _field_list(exc)
        detail = "; ".join(f"{f['field']}: {f['message']}" for f in fields[:5])
        return JSONResponse(error_body("validation_error", detail, fields), status_code=422)

    @app.exception_handler(DBAPIError)
    async def _database(_: Request, exc: DBAPIError) -> JSONResponse:
        if sqlstate(exc) not in TEXT_REJECTED:
            raise exc
        # PostgreSQL stores no NUL character (SQLite does): say so instead of failing.
        message = "text must not contain NUL (\\u0000) characters"
        return JSONResponse(
            error_body("validation_error", message, [{"field": "request", "message": message}]),
            status_code=422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400 and isinstance(exc.__cause__, ValueError):
            # FastAPI could not read a JSON body (not UTF-8): malformed JSON is a 422.
            message = "not valid JSON: the body must be UTF-8 text"
            return JSONResponse(
                error_body("validation_error", f"body: {message}", [_body_field(message)]),
                status_code=422,
            )
        code = _HTTP_CODES.get(exc.status_code, "error")
        return JSONResponse(
            error_body(code, str(exc.detail)), status_code=exc.status_code, headers=exc.headers
        )
