"""Errors as JSON: {"error": {"code", "message", "field"}} with the HTTP status that means it;
"details" is added where the error carries some (a conflict: the existing object's id)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from frontdesk.domain.errors import (
    Conflict,
    DomainError,
    Forbidden,
    Gone,
    InvalidInput,
    MalformedRequest,
    NotFound,
    RateLimited,
    TooLarge,
    Unauthenticated,
)

STATUS = {
    MalformedRequest: 400,
    InvalidInput: 422,
    NotFound: 404,
    Forbidden: 403,
    Unauthenticated: 401,
    Conflict: 409,
    Gone: 410,
    TooLarge: 413,
    RateLimited: 429,
}


def error_response(
    status: int,
    code: str,
    message: str,
    field: str | None = None,
    headers: dict[str, str] | None = None,
    details: dict[str, Any] | None = None,
) -> JSONResponse:
    error: dict[str, Any] = {"code": code, "message": message, "field": field}
    if details is not None:
        error["details"] = details
    return JSONResponse({"error": error}, status_code=status, headers=headers)


async def _domain(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    return domain_response(exc)


def domain_response(exc: DomainError) -> JSONResponse:
    status = next((s for cls, s in STATUS.items() if isinstance(exc, cls)), 400)
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimited) else None
    return error_response(status, exc.code, exc.message, exc.field, headers, exc.details)


def _field(loc: tuple[Any, ...]) -> str | None:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "cookie")]
    return ".".join(parts) or None


async def _validation(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0]
    if first.get("type") == "json_invalid":
        return error_response(
            400, "malformed_json", f"the body is not valid JSON: {first.get('msg')}", "body"
        )
    field = _field(tuple(first.get("loc", ())))
    code = "unknown_field" if first.get("type") == "extra_forbidden" else "invalid"
    message = f"{field or 'request'}: {first.get('msg')}"
    return error_response(422, code, message, field)


async def _http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    # Starlette's own 400s are forms it cannot read (no boundary, too many fields): malformed, as
    # the domain's MalformedRequest says it.
    codes = {
        400: "malformed",
        404: "not_found",
        405: "method_not_allowed",
        401: "unauthenticated",
        403: "forbidden",
    }
    headers = getattr(exc, "headers", None)
    message = str(exc.detail)
    if exc.status_code == 405 and headers and "Allow" in headers:
        # The router's own 405 says only "Method Not Allowed": name the method and the right ones.
        message = f"{request.method} is not allowed on {request.url.path}; use {headers['Allow']}"
    return error_response(exc.status_code, codes.get(exc.status_code, "error"), message, headers=headers)


def install(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _domain)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
