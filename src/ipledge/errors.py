"""Errors as RFC 9457 problem details, mapped in one place.

Domain code raises :class:`AppError` subclasses; Litestar's own exceptions (validation, 404, 405,
413) and anything unexpected are translated here too, so every error body is
``application/problem+json`` with the offending fields named and the request id attached.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import asyncpg
import msgspec
from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException

from ipledge.context import request_id_var

log = logging.getLogger("ipledge.errors")

PROBLEM_JSON = "application/problem+json"
#: A value PostgreSQL cannot store (bad encoding, out of range, a check) that validation let through.
UNSTORABLE = "数据库无法保存的取值 / a value the database cannot store"

_TITLES: dict[int, tuple[str, str]] = {
    400: ("请求格式错误", "Bad request"),
    401: ("未认证", "Unauthorized"),
    403: ("无权访问", "Forbidden"),
    404: ("未找到", "Not found"),
    405: ("方法不允许", "Method not allowed"),
    409: ("冲突", "Conflict"),
    410: ("已失效", "Gone"),
    413: ("请求体过大", "Request body too large"),
    415: ("不支持的媒体类型", "Unsupported media type"),
    422: ("输入无效", "Invalid input"),
    429: ("请求过多", "Too many requests"),
    500: ("服务器内部错误", "Internal server error"),
    503: ("服务不可用", "Service unavailable"),
}


class FieldError(msgspec.Struct, frozen=True):
    field: str
    message: str


class Problem(msgspec.Struct, frozen=True, omit_defaults=True):
    """RFC 9457 problem details, with our ``errors`` and ``request_id`` extensions."""

    type: str
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    errors: list[FieldError] = []
    request_id: str | None = None


class AppError(Exception):
    """A domain error that maps to one HTTP status."""

    status = 400
    slug = "bad-request"
    headers: dict[str, str] | None = None

    def __init__(self, detail: str, *, errors: list[FieldError] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []


class InvalidInput(AppError):
    status = 422
    slug = "invalid-input"

    def __init__(self, field: str, message: str, *, more: list[FieldError] | None = None) -> None:
        errors = [FieldError(field, message), *(more or [])]
        super().__init__(f"{field}: {message}", errors=errors)


class NotFound(AppError):
    status = 404
    slug = "not-found"


class Forbidden(AppError):
    status = 403
    slug = "forbidden"


class Conflict(AppError):
    status = 409
    slug = "conflict"


class Unauthorized(AppError):
    status = 401
    slug = "unauthorized"


def wants_english(request: Request[Any, Any, Any]) -> bool:
    """True when the client prefers English (``Accept-Language: en…``); Chinese is the default."""
    accept = request.headers.get("accept-language", "")
    return accept.strip().lower().startswith("en")


_MSGSPEC_PATH = re.compile(r" - at `\$\.?(.*)`$")
_KEY_PATH = re.compile(r" - at `key` in `\$\.?(.*)`$")  # a dict key that failed its type (an enum, say)
_NAMED = re.compile(r"^([a-z_][a-z0-9_]*): (.*)$", re.DOTALL)
_UNKNOWN = re.compile(r"^Object contains unknown field `([^`]+)`()$")
_MISSING = re.compile(r"^Object missing required field `([^`]+)`()$")


def msgspec_field_error(exc: msgspec.ValidationError, root: str = "") -> FieldError:
    """Turn msgspec's ``Expected `int`, got `str` - at `$.items[0].x``` into a field-named error."""
    text = str(exc)
    key = _KEY_PATH.search(text)
    match = key or _MSGSPEC_PATH.search(text)
    path = match.group(1) if match else ""
    message = (_KEY_PATH if key else _MSGSPEC_PATH).sub("", text)
    if key:
        message = f"键无效 / invalid key: {message}"
    # Cross-field checks in __post_init__ name their field as "field: message" (see vocab.fail).
    unknown = _UNKNOWN.match(message)
    missing = _MISSING.match(message)
    named = unknown or missing or _NAMED.match(message)
    if named:
        name = named.group(1)
        path = f"{path}.{name}" if path else name
        if unknown:
            message = "未知字段 / unknown field"
        elif missing:
            message = "缺少必填字段 / required field missing"
        else:
            message = named.group(2)
    field = ".".join(p for p in (root, path) if p) or "body"
    return FieldError(field, message)


def _problem_response(
    request: Request[Any, Any, Any],
    status: int,
    detail: str | None,
    errors: list[FieldError],
    slug: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response[Problem]:
    zh, en = _TITLES.get(status, ("错误", "Error"))
    problem = Problem(
        type=f"/problems/{slug or status}",
        title=en if wants_english(request) else zh,
        status=status,
        detail=detail,
        instance=request.url.path,
        errors=errors,
        request_id=request_id_var.get(),
    )
    return Response(problem, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def app_error_handler(request: Request[Any, Any, Any], exc: AppError) -> Response[Problem]:
    return _problem_response(request, exc.status, exc.detail, exc.errors, exc.slug, exc.headers)


def validation_handler(request: Request[Any, Any, Any], exc: ValidationException) -> Response[Problem]:
    errors: list[FieldError] = []
    extra = exc.extra if isinstance(exc.extra, list) else []
    for item in extra:
        if isinstance(item, dict):
            key = str(item.get("key") or item.get("source") or "body")
            errors.append(FieldError(key, str(item.get("message", ""))))
    detail = "; ".join(f"{e.field}: {e.message}" for e in errors) or exc.detail
    return _problem_response(request, 400, detail, errors, "validation")


def http_error_handler(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Problem]:
    status = exc.status_code
    headers = dict(exc.headers or {})
    detail = exc.detail if status != 404 or exc.detail != "Not Found" else f"{request.method} {request.url.path}"
    return _problem_response(request, status, detail, [], None, headers or None)


def integrity_handler(
    request: Request[Any, Any, Any], exc: asyncpg.IntegrityConstraintViolationError
) -> Response[Problem]:
    """A constraint the database caught and the code did not: a client error, never a 500."""
    constraint = getattr(exc, "constraint_name", None) or getattr(exc, "column_name", None) or "body"
    if isinstance(exc, asyncpg.UniqueViolationError):
        return _problem_response(request, 409, f"重复的记录 / duplicate: {constraint}", [], "conflict")
    log.warning("constraint violation", extra={"constraint": constraint, "sqlstate": exc.sqlstate})
    field = FieldError(constraint, "违反数据约束 / violates a data constraint")
    return _problem_response(request, 422, f"{constraint}: violates a data constraint", [field], "invalid-input")


def data_error_handler(request: Request[Any, Any, Any], exc: asyncpg.DataError) -> Response[Problem]:
    """A value PostgreSQL cannot store (bad encoding, out of range) that validation let through: a 422."""
    log.warning("data error", extra={"sqlstate": exc.sqlstate})
    field = FieldError("body", UNSTORABLE)
    return _problem_response(request, 422, "a value the database cannot store", [field], "invalid-input")


def internal_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
    log.exception("unhandled error", exc_info=exc)
    return _problem_response(request, 500, None, [], "internal")


EXCEPTION_HANDLERS: dict[type[Exception] | int, Any] = {
    AppError: app_error_handler,
    ValidationException: validation_handler,
    HTTPException: http_error_handler,
    asyncpg.IntegrityConstraintViolationError: integrity_handler,
    asyncpg.DataError: data_error_handler,
    Exception: internal_error_handler,
}

__all__ = [
    "EXCEPTION_HANDLERS",
    "PROBLEM_JSON",
    "AppError",
    "Conflict",
    "FieldError",
    "Forbidden",
    "InvalidInput",
    "MediaType",
    "NotFound",
    "Problem",
    "Unauthorized",
    "msgspec_field_error",
    "wants_english",
]
