"""Process settings: one frozen Struct read from the environment and validated at start-up.

Every variable is ``IPLEDGE_<FIELD>`` except ``DATABASE_URL``. A bad value stops start-up with a
message naming the variable, never a traceback deep inside the app.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Literal

import msgspec

Port = Annotated[int, msgspec.Meta(ge=1, le=65535)]
PositiveInt = Annotated[int, msgspec.Meta(ge=1)]
Fraction = Annotated[float, msgspec.Meta(ge=0.0, lt=1.0)]


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    """Everything a process needs to know about its environment."""

    database_url: str | None = None
    """PostgreSQL DSN; when unset an embedded PostgreSQL is started under ``data_dir``."""
    data_dir: str = ".ipledge"
    host: str = "127.0.0.1"
    port: Port = 8000
    workers: Annotated[int, msgspec.Meta(ge=1, le=64)] = 1
    """``ipledge serve`` worker processes (each with its own database pool of up to ``db_pool_max``)."""
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_json: bool = True
    db_pool_min: PositiveInt = 2
    db_pool_max: PositiveInt = 10
    max_body_bytes: PositiveInt = 1024 * 1024
    key_cache_seconds: Annotated[float, msgspec.Meta(ge=0.0, le=300.0)] = 5.0
    secret_key: str | None = None
    """Key that encrypts webhook secrets at rest (urlsafe base64 of 32 bytes)."""
    allow_private_webhooks: bool = False
    risk_free_rate: Fraction = 0.025
    demo_seed: int = 20240101
    public_base_url: str = "http://127.0.0.1:8000"
    schedule_poll: Annotated[float, msgspec.Meta(gt=0.0)] = 60.0
    """Seconds between the worker's checks for due scheduled push runs."""
    webhook_retry_delays: str = ""
    """Comma-separated retry delays in seconds; empty = the standard schedule (5 s … 10 h)."""
    webhook_timeout: Annotated[float, msgspec.Meta(gt=0.0, le=15.0)] = 15.0
    """A delivery not answered with a 2xx within this many seconds has failed."""
    webhook_lease: Annotated[float, msgspec.Meta(gt=0.0)] = 60.0
    """How long a worker's claim on a delivery lasts; must exceed webhook_timeout."""
    assessment_concurrency: Annotated[int, msgspec.Meta(ge=1, le=1000)] = 2
    """Pledge assessments one server process works on at once; later ones wait their turn, in arrival order.

    Two keep this process and a local database busy; raise it when the database is across a network (more
    round-trip time to overlap)."""
    assessment_queue: Annotated[int, msgspec.Meta(ge=0, le=100_000)] = 256
    """Pledge assessments that may wait per process; the next one is refused with 503 and Retry-After."""
    worker_concurrency: Annotated[int, msgspec.Meta(ge=1, le=1000)] = 16
    worker_poll: Annotated[float, msgspec.Meta(gt=0.0)] = 1.0
    """Seconds an idle worker waits for work before it looks again (it is also woken by NOTIFY)."""

    def __post_init__(self) -> None:
        if self.db_pool_min > self.db_pool_max:
            raise msgspec.ValidationError("IPLEDGE_DB_POOL_MIN must not exceed IPLEDGE_DB_POOL_MAX")
        if self.database_url is not None and not self.database_url.startswith(("postgres://", "postgresql://")):
            raise msgspec.ValidationError("DATABASE_URL must be a postgresql:// URL")
        if self.webhook_lease <= self.webhook_timeout:
            raise msgspec.ValidationError("IPLEDGE_WEBHOOK_LEASE must exceed IPLEDGE_WEBHOOK_TIMEOUT")

    @property
    def data_path(self) -> Path:
        """The directory that holds the embedded database and other local state."""
        return Path(self.data_dir).resolve()


class SettingsError(ValueError):
    """A setting from the environment is invalid; the message names the variable."""


_PREFIX = "IPLEDGE_"


def _env_name(field: str) -> str:
    return "DATABASE_URL" if field == "database_url" else _PREFIX + field.upper()


def load_settings(environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
    """Read settings from the environment (or ``environ``), then apply keyword overrides.

    Raises:
        SettingsError: naming the environment variable whose value is invalid.
    """
    env = os.environ if environ is None else environ
    raw: dict[str, object] = {}
    for field in Settings.__struct_fields__:
        value = env.get(_env_name(field))
        if value is not None and value != "":
            raw[field] = value
    raw.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return msgspec.convert(raw, Settings, strict=False)
    except msgspec.ValidationError as exc:
        message = str(exc)
        # msgspec reports "... - at `$.port`"; translate the path back to the variable name.
        if "at `$." in message:
            field = message.rsplit("at `$.", 1)[1].rstrip("`")
            raise SettingsError(f"{_env_name(field)}: {message.split(' - at ')[0]}") from exc
        raise SettingsError(message) from exc
