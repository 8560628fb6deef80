"""The access log's fast path (``ipledge.logs.access_log``) writes what the JSON formatter would, secrets masked.

(It lives here because the valuation API bench drove the change; it tests ``ipledge.logs``.)
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from ipledge import logs
from ipledge.context import request_id_var


@pytest.fixture
def json_stream() -> Iterator[io.StringIO]:
    parent = logging.getLogger("ipledge")
    saved = (parent.handlers[:], parent.level, parent.propagate, logs._JSON_HANDLER[:])
    logs.configure_logging("INFO")
    buf = io.StringIO()
    parent.handlers[0].setStream(buf)
    try:
        yield buf
    finally:
        parent.handlers[:], parent.level, parent.propagate = saved[0], saved[1], saved[2]
        logs._JSON_HANDLER[:] = saved[3]


def _fast_path() -> None:
    """Take off the capture handlers pytest (9+) puts on non-propagating loggers for each test phase: with them
    on ``ipledge`` the access log (rightly) takes the regular logging path, and the fast path went untested."""
    parent = logging.getLogger("ipledge")
    parent.handlers[:] = logs._JSON_HANDLER[:]
    assert logs._fast_handler() is parent.handlers[0]


def test_fast_line_equals_the_formatter_line_and_masks_secrets(json_stream: io.StringIO) -> None:
    _fast_path()
    key = "ipk_" + "B" * 40
    path = f"/api/v1/things/{key}/Bearer topsecret"
    token = request_id_var.set("rid-42")
    try:
        logs.access_log("GET", path, 404, 1.5, "rid-42")
        logging.getLogger("ipledge.access").info(
            "request", extra={"method": "GET", "path": path, "status": 404, "ms": 1.5}
        )
    finally:
        request_id_var.reset(token)
    fast, slow = (json.loads(line) for line in json_stream.getvalue().splitlines())
    assert list(fast) == list(slow) and {k: v for k, v in fast.items() if k != "ts"} == {
        k: v for k, v in slow.items() if k != "ts"
    }
    assert fast["ts"][:19] == slow["ts"][:19] and fast["ts"].endswith("+00:00")
    assert key not in json_stream.getvalue() and "topsecret" not in json_stream.getvalue()
    assert fast["path"] == "/api/v1/things/ipk_BBBBBB***/Bearer ***"


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_level_and_foreign_handlers_are_respected(json_stream: io.StringIO) -> None:
    _fast_path()
    logging.getLogger("ipledge").setLevel("WARNING")
    logs.access_log("GET", "/health", 200, 0.1, "r")
    assert json_stream.getvalue() == ""
    logging.getLogger("ipledge").setLevel("INFO")
    access, listener = logging.getLogger("ipledge.access"), _Records()
    access.addHandler(listener)  # someone else listens: the regular logging path is taken
    try:
        logs.access_log("POST", "/api/v1/x", 201, 2.0, "r")
    finally:
        access.removeHandler(listener)
    assert [(r.getMessage(), r.__dict__["status"]) for r in listener.records] == [("request", 201)]


def test_a_utf8_file_gets_the_encoded_line_in_order_with_other_log_lines(
    json_stream: io.StringIO, tmp_path: Path
) -> None:
    _fast_path()
    handler = logging.getLogger("ipledge").handlers[0]
    with (tmp_path / "log").open("w", encoding="utf-8") as file:
        handler.setStream(file)
        logging.getLogger("ipledge.x").warning("before 路演")
        file.write("unflushed text of another writer\n")  # left in the text layer's buffer
        logs.access_log("GET", "/api/v1/企业/é", 200, 0.5, "rid-1")
        logging.getLogger("ipledge.x").warning("after")
        assert logs._utf8_fd(file) == file.fileno()  # the line went past the text layer
    lines = (tmp_path / "log").read_text(encoding="utf-8").splitlines()
    assert json.loads(lines[0])["msg"] == "before 路演"
    assert lines[1] == "unflushed text of another writer"
    assert {k: v for k, v in json.loads(lines[2]).items() if k != "ts"} == {
        "level": "info", "logger": "ipledge.access", "msg": "request", "request_id": "rid-1", "method": "GET",
        "path": "/api/v1/企业/é", "status": 200, "ms": 0.5,
    }  # fmt: skip
    assert json.loads(lines[3])["msg"] == "after" and len(lines) == 4
    assert logs._utf8_fd(io.StringIO()) is None
    with (tmp_path / "latin").open("w", encoding="latin-1") as other:
        assert logs._utf8_fd(other) is None
