"""Demo data is deterministic and valid; the CLI and `ipledge serve` work end to end."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from ipledge.demo import load_demo
from ipledge.demo_data import generate
from ipledge.identifiers import validate_credit_code, validate_patent_number


def test_demo_data_is_deterministic_and_valid() -> None:
    a, b = generate(7), generate(7)
    assert [e.credit_code for e in a.enterprises] == [e.credit_code for e in b.enterprises]
    assert [p.number for p in a.patents] == [p.number for p in b.patents]
    assert generate(8).enterprises[0].credit_code != a.enterprises[0].credit_code
    orgs = [*a.operators, *a.enterprises, *a.banks, *a.funds]
    assert len(a.enterprises) == 300 and len(a.banks) == 10 and len(a.funds) == 20
    assert len({o.credit_code for o in orgs}) == len(orgs)
    assert all(validate_credit_code(o.credit_code) == o.credit_code for o in orgs)
    assert 2000 <= len(a.patents) <= 6000
    assert all(validate_patent_number(p.number) == p.number for p in a.patents)
    assert len({p.number for p in a.patents}) == len(a.patents)
    assert len({e.province for e in a.enterprises}) >= 20


async def test_demo_load_is_idempotent(db: Any) -> None:
    assert await load_demo(db, 11) is True
    counts = await db.fetchrow("SELECT (SELECT count(*) FROM organisations) o, (SELECT count(*) FROM patents) p")
    assert await load_demo(db, 11) is False
    assert (
        await db.fetchrow("SELECT (SELECT count(*) FROM organisations) o, (SELECT count(*) FROM patents) p") == counts
    )
    assert counts["o"] == 333 and counts["p"] > 2000


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ipledge.cli", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_keys_and_migrate(db_url: str, world_codes: dict[str, str]) -> None:
    env = {"DATABASE_URL": db_url, "IPLEDGE_LOG_LEVEL": "WARNING"}
    assert "up to date" in _cli(env, "migrate").stdout
    bad = _cli(env, "keys", "create", "--org", world_codes["bank"], "--role", "fund")
    assert bad.returncode == 2 and "--role" in bad.stderr
    made = _cli(env, "keys", "create", "--org", world_codes["bank"], "--role", "bank")
    assert made.returncode == 0, made.stderr
    key = next(line.split()[-1] for line in made.stdout.splitlines() if line.startswith("key:"))
    key_id = next(line.split()[-1] for line in made.stdout.splitlines() if line.startswith("key id:"))
    assert key.startswith("ipk_")
    assert _cli(env, "keys", "revoke", key_id).returncode == 0
    assert _cli(env, "keys", "revoke", "not-a-key").returncode == 2
    assert _cli(env, "keys", "create", "--org", "nope").returncode != 0
    assert "DATABASE_URL" in _cli({"DATABASE_URL": "mysql://x"}, "migrate").stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_with_embedded_database_and_demo(tmp_path: Path) -> None:
    """What `make run` does: embedded PostgreSQL, demo data, one key per role, /health and /ready, clean Ctrl-C."""
    port = _free_port()
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    env = {
        **os.environ,
        "IPLEDGE_DATA_DIR": str(tmp_path / "data"),
        "IPLEDGE_PORT": str(port),
        "XDG_RUNTIME_DIR": str(runtime),
        "IPLEDGE_LOG_LEVEL": "WARNING",
    }
    env.pop("DATABASE_URL", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "ipledge.cli", "serve", "--demo"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 90
        ready = None
        while time.monotonic() < deadline:
            try:
                ready = httpx.get(f"http://127.0.0.1:{port}/ready", timeout=1)
                break
            except httpx.TransportError:
                assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
                time.sleep(0.2)
        assert ready is not None and ready.status_code == 200
        assert httpx.get(f"http://127.0.0.1:{port}/health").json() == {"status": "alive"}
        assert httpx.get(f"http://127.0.0.1:{port}/schema/openapi.json").status_code == 200
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    roles = [line.split()[0] for line in out.splitlines() if "ipk_" in line]
    assert roles == ["operator", "enterprise", "bank", "fund"]
    assert not (tmp_path / "data" / "pg" / "postmaster.pid").exists(), "embedded PostgreSQL left running"


def test_serve_runs_uvicorn_on_the_loop_uvicorn_picks(monkeypatch: Any) -> None:
    """`ipledge serve` (one process) serves on uvloop, as `uvicorn.run` and the worker processes do."""
    import argparse
    import asyncio

    import uvicorn
    import uvloop

    from ipledge.cli import cmd_serve
    from ipledge.settings import load_settings

    seen: list[type[asyncio.AbstractEventLoop]] = []

    async def serve(self: uvicorn.Server, sockets: Any = None) -> None:
        seen.append(type(asyncio.get_running_loop()))

    monkeypatch.setattr(uvicorn.Server, "serve", serve)
    args = argparse.Namespace(workers=None, demo=False, host="127.0.0.1", port=_free_port())
    settings = load_settings(database_url="postgresql://nobody@127.0.0.1:1/none")  # never connected to
    assert cmd_serve(args, settings) == 0
    assert seen == [uvloop.Loop]


def test_served_apps_freeze_the_start_up_heap(monkeypatch: Any) -> None:
    """Both ways `ipledge serve` builds its app add the gc.freeze start-up hook; `create_app` alone does not."""
    import argparse
    import gc

    import uvicorn

    import ipledge.cli
    from ipledge.app import create_app
    from ipledge.cli import cmd_serve, freeze_heap, serve_app
    from ipledge.settings import load_settings

    served: list[Any] = []
    monkeypatch.setattr(ipledge.cli, "configure_logging", lambda *a, **k: None)  # keep this process's logging

    async def serve(self: uvicorn.Server, sockets: Any = None) -> None:
        served.append(self.config.app)

    monkeypatch.setattr(uvicorn.Server, "serve", serve)
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")  # never connected to
    settings = load_settings()
    args = argparse.Namespace(workers=None, demo=False, host="127.0.0.1", port=_free_port())
    assert cmd_serve(args, settings) == 0
    assert freeze_heap in served[0].on_startup
    assert freeze_heap in serve_app().on_startup
    assert freeze_heap not in create_app(settings).on_startup
    try:
        freeze_heap()
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


def test_the_embedded_server_is_configured_once_and_keeps_it(tmp_path: Path, caplog: Any) -> None:
    """The embedded server runs with SERVER_SETTINGS (new WAL segments are not zero-filled); a later start
    finds them set and changes nothing."""
    from ipledge.db.embedded import SERVER_SETTINGS, EmbeddedPostgres

    def started() -> tuple[str, list[str]]:
        caplog.clear()
        with caplog.at_level("INFO", logger="ipledge.db"):
            server = EmbeddedPostgres(tmp_path / "pg")
        try:
            shown = server.psql("SHOW wal_init_zero;")
        finally:
            server.stop()
        return shown, [r.getMessage() for r in caplog.records if r.name == "ipledge.db"]

    assert SERVER_SETTINGS["wal_init_zero"] == "off"
    shown, messages = started()
    assert shown.split()[2] == "off", shown  # header, rule, value
    assert "configuring embedded PostgreSQL" in messages
    shown, messages = started()
    assert shown.split()[2] == "off", shown
    assert "configuring embedded PostgreSQL" not in messages
