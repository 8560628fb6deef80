"""Strict request bodies.

Litestar converts bodies leniently (``"5"`` becomes ``5``). Before a handler runs, this hook
decodes JSON bodies again with ``strict=True`` against the handler's declared body type, so a
string where a number goes, NaN or Infinity are rejected with a 422 naming the field.

The body is decoded once: the strictly decoded value is handed to Litestar as the request's
parsed JSON, so the handler's ``data`` is that value (a Struct passes Litestar's own conversion
unchanged) and the body is not decoded a second time, leniently.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request
from litestar.handlers import HTTPRouteHandler
from litestar.utils.scope.state import ScopeState

from ipledge.errors import InvalidInput, msgspec_field_error

_NO_BODY = object()
#: A body nested deeper than the decoder (or the NUL scan) can follow.
TOO_DEEP = "JSON 嵌套过深 / JSON nested too deeply"
_body_types: dict[HTTPRouteHandler, Any] = {}


def _body_type(handler: HTTPRouteHandler) -> Any:
    cached = _body_types.get(handler)
    if cached is None:
        field = handler.parsed_fn_signature.parameters.get("data")
        cached = _NO_BODY if field is None else field.annotation
        _body_types[handler] = cached
    return cached


def decode_json(body: bytes) -> Any:
    """A JSON body decoded without a type (an upload read row by row); malformed or too deep is a 422 on body."""
    try:
        return msgspec.json.decode(body)
    except msgspec.DecodeError as exc:
        raise InvalidInput("body", f"JSON 格式错误 / malformed JSON: {exc}") from None
    except RecursionError:  # msgspec's own depth limit
        raise InvalidInput("body", TOO_DEEP) from None


def nul_path(value: Any, path: str) -> str | None:
    """The path of the first string (or key) holding a NUL character, or None."""
    if isinstance(value, str):
        return path if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if "\x00" in str(key):
                return where
            found = nul_path(item, where)
            if found is not None:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = nul_path(item, f"{path}[{index}]")
            if found is not None:
                return found
    return None


async def strict_body(request: Request[Any, Any, Any]) -> None:
    """Validate the JSON body strictly; raises ``InvalidInput`` naming the field.

    Also refuses NUL characters in path and query parameters: PostgreSQL text cannot hold them.
    """
    scope = request.scope
    # Path parameters are cut from the decoded path and query values are percent-decoded from the query
    # string, so a NUL can only be there if the path holds one or the query string a "%00" or a raw NUL.
    query = scope["query_string"]
    if "\x00" in scope["path"] or b"%00" in query or b"\x00" in query:
        for name, value in [*request.path_params.items(), *request.query_params.multi_items()]:
            if "\x00" in str(value):
                raise InvalidInput(name, "不能包含 NUL 字符 / must not contain NUL characters")
    if request.method not in ("POST", "PUT", "PATCH"):
        return
    body_type = _body_type(request.route_handler)
    if body_type is _NO_BODY:
        return
    body = await request.body()
    try:
        if b"\\u0000" in body:  # PostgreSQL text cannot hold NUL; find and name the field
            path = nul_path(msgspec.json.decode(body), "")
            if path is not None:
                raise InvalidInput(path or "body", "不能包含 NUL 字符 / must not contain NUL characters")
        value = msgspec.json.decode(body or b"null", type=body_type, strict=True)
    except msgspec.ValidationError as exc:
        err = msgspec_field_error(exc)
        raise InvalidInput(err.field, err.message) from None
    except msgspec.DecodeError as exc:
        raise InvalidInput("body", f"JSON 格式错误 / malformed JSON: {exc}") from None
    except RecursionError:  # msgspec's own depth limit, or nul_path's, on a body nested thousands deep
        raise InvalidInput("body", TOO_DEEP) from None
    # Litestar's JSON extractor reads this before decoding the body itself: the handler gets this value.
    ScopeState.from_scope(scope).json = value
