"""The one place where errors become HTTP responses: JSON `{"error": {"code", "message"}}`, never a trace."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import DataError, IntegrityError, StatementError
from starlette.exceptions import HTTPException as StarletteHTTPException

from models.transitions import InvalidTransitionError
from services.errors import ServiceError

logger = logging.getLogger(__name__)

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
    429: "too_many_requests",
}


class ErrorDetail(BaseModel):
    code: str
    message: str
    details: list[dict[str, Any]] | None = None


class ErrorBody(BaseModel):
    """Every error the API returns: a stable machine code and a message a person can act on."""

    error: ErrorDetail


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": f"error ({code})"}
    for status, code in (
        (400, "bad_request"),
        (401, "not_authenticated, invalid_token, token_expired, invalid_api_key, invalid_credentials"),
        (403, "forbidden"),
        (404, "not_found"),
        (409, "conflict, invalid_transition, stale_version, duplicate_…"),
        (413, "payload_too_large"),
        (415, "unsupported_media_type"),
        (422, "validation_error, unknown_field_code, …"),
    )
}
"""Documented on every API route, replacing FastAPI's default 422 schema (our bodies differ)."""


def error_response(status: int, code: str, message: str, **extra: Any) -> JSONResponse:
    body: dict[str, Any] = {"error": {"code": code, "message": message, **extra}}
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(status_code=status, content=jsonable_encoder(body), headers=headers)


def _describe(errors: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    details: list[dict[str, Any]] = [
        {
            "loc": [str(p) for p in e.get("loc", ())],
            "msg": str(e.get("msg", "")),
            "type": str(e.get("type", "")),
        }
        for e in errors
    ]
    first: dict[str, Any] = details[0] if details else {"loc": [], "msg": "invalid request"}
    where = ".".join(p for p in first["loc"] if p not in ("body", "query", "path"))
    return (f"{where}: {first['msg']}" if where else first["msg"]), details


def register_exception_handlers(app: FastAPI) -> None:
    @app.exception_handler(ServiceError)
    async def _service(_: Request, exc: ServiceError) -> JSONResponse:
        return error_response(exc.status, exc.code, exc.message)

    @app.exception_handler(InvalidTransitionError)
    async def _transition(_: Request, exc: InvalidTransitionError) -> JSONResponse:
        return error_response(409, "invalid_transition", str(exc))

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        message, details = _describe(list(exc.errors()))
        return error_response(422, "validation_error", message, details=details)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "error")
        response = error_response(exc.status_code, code, str(exc.detail))
        response.headers.update(exc.headers or {})  # e.g. Allow on 405, as HTTP requires
        return response

    _register_storage_handlers(app)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        logger.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(500, "internal_error", "internal error; it has been logged")


def _register_storage_handlers(app: FastAPI) -> None:
    """Input the schemas let through but storage refuses (a race on a unique key, a number too large
    for the backend, text that is not valid Unicode) is the client's problem, not a 500."""

    @app.exception_handler(IntegrityError)
    async def _integrity(request: Request, exc: IntegrityError) -> JSONResponse:
        logger.info("integrity error on %s %s: %s", request.method, request.url.path, exc.orig)
        return error_response(
            409, "conflict", "the change conflicts with existing data (duplicate or in use)"
        )

    @app.exception_handler(DataError)
    async def _data(request: Request, exc: DataError) -> JSONResponse:
        logger.info("data error on %s %s: %s", request.method, request.url.path, exc.orig)
        return error_response(
            422, "invalid_value", "a value is out of range or of the wrong form for storage"
        )

    @app.exception_handler(OverflowError)
    async def _overflow(_: Request, exc: OverflowError) -> JSONResponse:
        # e.g. an id beyond SQLite's 64-bit integers inside a body; PostgreSQL raises DataError instead
        return error_response(422, "invalid_value", "a number is out of the range the database can store")

    @app.exception_handler(UnicodeError)
    async def _unicode(_: Request, exc: UnicodeError) -> JSONResponse:
        return error_response(422, "invalid_text", "text contains characters that are not valid Unicode")

    @app.exception_handler(StatementError)
    async def _statement(request: Request, exc: StatementError) -> JSONResponse:
        if isinstance(exc.orig, UnicodeError):
            return error_response(422, "invalid_text", "text contains characters that are not valid Unicode")
        logger.exception("database statement failed on %s %s", request.method, request.url.path)
        return error_response(500, "internal_error", "internal error; it has been logged")
