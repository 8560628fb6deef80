"""The access log: its fast path (``ipledge.logs.write_access_log``) writes what the JSON formatter would, secrets
masked; the request ledger (``ipledge.observability.RequestLedger``) writes and counts every finished request, in
order, with its own time and id, at the latest when ``/metrics`` is scraped or the app stops.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from ipledge import logs, observability
from ipledge.app import create_app
from ipledge.context import request_id_var
from ipledge.metrics import RequestStats
from ipledge.settings import Settings


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
        logs.write_access_log([(time.time(), "GET", path, 404, 1.5, "rid-42")])
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
    logs.write_access_log([(time.time(), "GET", "/health", 200, 0.1, "r")])
    assert json_stream.getvalue() == ""
    logging.getLogger("ipledge").setLevel("INFO")
    access, listener = logging.getLogger("ipledge.access"), _Records()
    access.addHandler(listener)  # someone else listens: the regular logging path is taken
    try:
        logs.write_access_log([(time.time(), "POST", "/api/v1/x", 201, 2.0, "r1"), (0.0, "GET", "/y", 404, 1.0, "r2")])
    finally:
        access.removeHandler(listener)
    # One record each, in order, each with its own request id (the requests are over: not the context's).
    assert [(r.getMessage(), r.__dict__["status"], r.__dict__["request_id"]) for r in listener.records] == [
        ("request", 201, "r1"),
        ("request", 404, "r2"),
    ]


def test_a_utf8_file_gets_the_encoded_line_in_order_with_other_log_lines(
    json_stream: io.StringIO, tmp_path: Path
) -> None:
    _fast_path()
    handler = logging.getLogger("ipledge").handlers[0]
    with (tmp_path / "log").open("w", encoding="utf-8") as file:
        handler.setStream(file)
        logging.getLogger("ipledge.x").warning("before 路演")
        file.write("unflushed text of another writer\n")  # left in the text layer's buffer
        logs.write_access_log([(time.time(), "GET", "/api/v1/企业/é", 200, 0.5, "rid-1")])
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


# --- the request ledger: finished requests are counted and logged together ---------------------------------


async def _respond(scope: Any, receive: Any, send: Any) -> None:
    status = 404 if scope["path"] == "/missing" else 200
    scope["path_template"] = scope["path"] if status == 200 else None
    await send({"type": "http.response.start", "status": status, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


async def _request(app: Any, path: str, rid: bytes | None = None) -> str:
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    headers = [] if rid is None else [(b"x-request-id", rid)]
    await app({"type": "http", "method": "GET", "path": path, "headers": headers}, receive, send)
    return dict(sent[0]["headers"])[b"x-request-id"].decode()


@pytest.fixture
def stats(monkeypatch: pytest.MonkeyPatch) -> RequestStats:
    fresh = RequestStats()
    monkeypatch.setattr(observability, "STATS", fresh)
    return fresh


async def test_finished_requests_are_logged_and_counted_together_in_order(
    json_stream: io.StringIO, stats: RequestStats
) -> None:
    _fast_path()
    ledger = observability.RequestLedger()
    app = observability.request_context_middleware(_respond, ledger)
    before = time.time()
    ids = [await _request(app, "/a", b"given-1"), await _request(app, "/missing"), await _request(app, "/a")]
    after = time.time()
    assert json_stream.getvalue() == "" and stats.counts == {} and len(ledger.pending) == 3  # nothing yet
    deadline = time.monotonic() + 10
    while ledger.pending:  # the timer's flush, FLUSH_S later
        assert time.monotonic() < deadline, "the ledger was not flushed"
        await asyncio.sleep(0.005)
    lines = [json.loads(line) for line in json_stream.getvalue().splitlines()]
    assert [(x["request_id"], x["path"], x["status"], x["method"]) for x in lines] == [
        ("given-1", "/a", 200, "GET"),
        (ids[1], "/missing", 404, "GET"),
        (ids[2], "/a", 200, "GET"),
    ]
    assert ids[0] == "given-1" and len(ids[1]) == len(ids[2]) == 32 and ids[1] != ids[2]
    for line in lines:  # each line has its own request's time, not the flush's
        at = datetime.fromisoformat(line["ts"]).timestamp()
        assert before - 0.002 <= at <= after + 0.002 and 0 <= line["ms"] < 1000
    assert stats.counts == {("GET", "/a", 200): 2, ("GET", "unmatched", 404): 1}
    assert ledger.pending == [] and ledger.due is None


async def test_the_ledger_flushes_at_once_when_many_wait_and_when_drained(
    json_stream: io.StringIO, stats: RequestStats, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fast_path()
    monkeypatch.setattr(observability, "FLUSH_S", 3600.0)  # only a full batch or a drain flushes
    monkeypatch.setattr(observability, "FLUSH_AT", 4)
    ledger = observability.RequestLedger()
    app = observability.request_context_middleware(_respond, ledger)
    for _ in range(3):
        await _request(app, "/a")
    assert json_stream.getvalue() == "" and ledger.due is not None
    await _request(app, "/a")  # the fourth
    assert len(json_stream.getvalue().splitlines()) == 4 and stats.counts == {("GET", "/a", 200): 4}
    assert ledger.due is None and ledger.pending == []
    await _request(app, "/a")
    assert len(json_stream.getvalue().splitlines()) == 4
    ledger.drain()
    assert len(json_stream.getvalue().splitlines()) == 5 and ledger.due is None


async def test_metrics_and_the_apps_shutdown_count_and_log_every_finished_request(
    json_stream: io.StringIO, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(observability, "FLUSH_S", 3600.0)  # no timer flushes during the test
    app = create_app(settings)
    async with AsyncTestClient(app=app) as client:
        _fast_path()
        rid = (await client.get("/health")).headers["x-request-id"]
        assert rid not in json_stream.getvalue()
        text = (await client.get("/metrics")).text  # a scrape drains first: the request is counted and logged
        assert 'ipledge_http_requests_total{method="GET",route="/health",status="200"}' in text
        assert rid in json_stream.getvalue()
        last = (await client.get("/health")).headers["x-request-id"]
        assert last not in json_stream.getvalue()
    assert last in json_stream.getvalue()  # the lifespan drained when the app stopped
