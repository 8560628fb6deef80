"""The ``ipledge`` command: serve, migrate, demo, keys (and the domains' own subcommands)."""

from __future__ import annotations

import argparse
import asyncio
import gc
import sys
import uuid
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AsyncExitStack
from typing import Any

import msgspec

from ipledge.db.embedded import EmbeddedPostgres
from ipledge.db.migrate import MigrationError, migrate
from ipledge.db.runtime import open_database
from ipledge.db.types import Pool
from ipledge.logs import configure_logging
from ipledge.settings import Settings, SettingsError, load_settings

Command = Callable[[argparse.Namespace, Settings], int]


def _run_with_pool(settings: Settings, action: Callable[[Pool], Awaitable[int]]) -> int:
    async def main() -> int:
        async with open_database(settings) as pool:
            return await action(pool)

    return asyncio.run(main())


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    async def action(pool: Pool) -> int:
        async with pool.acquire() as conn:
            applied = await migrate(conn)
        print("applied: " + ", ".join(applied) if applied else "database is up to date")
        return 0

    return _run_with_pool(settings, action)


def _print_keys(keys: Sequence[tuple[str, str, str]]) -> None:
    print("\n演示 API 密钥 / demo API keys (shown once; `make run` issues new ones each start):")
    for role, name, key in keys:
        print(f"  {role:<10} {key}   {name}")
    print()


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from ipledge.demo import demo_keys, load_all_demos

    async def action(pool: Pool) -> int:
        loaded = await load_all_demos(pool, settings.demo_seed, base_url=settings.public_base_url)
        print(f"demo data loaded: {', '.join(loaded)}" if loaded else "demo data already present")
        if args.keys:
            _print_keys(await demo_keys(pool))
        return 0

    return _run_with_pool(settings, action)


async def _resolve_org(pool: Pool, ref: str) -> tuple[uuid.UUID, str]:
    try:
        row = await pool.fetchrow("SELECT id, kind FROM organisations WHERE id = $1", uuid.UUID(ref))
    except ValueError:
        row = await pool.fetchrow("SELECT id, kind FROM organisations WHERE credit_code = $1", ref.upper())
    if row is None:
        raise SystemExit(f"error: --org: no organisation {ref!r}")
    return row["id"], row["kind"]


def cmd_keys_create(args: argparse.Namespace, settings: Settings) -> int:
    from ipledge.registry import service

    async def action(pool: Pool) -> int:
        org_id, kind = await _resolve_org(pool, args.org)
        if args.role and args.role != kind:
            print(f"error: --role: organisation is a {kind}; its keys carry the role {kind}", file=sys.stderr)
            return 2
        created = await service.create_key(pool, None, org_id, args.label)
        print(f"key id: {created.id}\nrole:   {created.role}\nkey:    {created.key}\n(shown once; store it now)")
        return 0

    return _run_with_pool(settings, action)


def cmd_keys_revoke(args: argparse.Namespace, settings: Settings) -> int:
    from ipledge.errors import NotFound
    from ipledge.registry import service

    async def action(pool: Pool) -> int:
        try:
            revoked = await service.revoke_key(pool, None, uuid.UUID(args.key_id))
        except (ValueError, NotFound):
            print(f"error: key_id: no key {args.key_id!r}", file=sys.stderr)
            return 2
        print(f"revoked {revoked.id} at {revoked.revoked_at}")
        return 0

    return _run_with_pool(settings, action)


def freeze_heap() -> None:
    """Move every object alive at start-up out of the cyclic garbage collector's reach (``gc.freeze``).

    The imported libraries (NumPy, scikit-learn, Litestar, OR-Tools...) leave hundreds of thousands of tracked
    objects that every full collection walks: a generation-2 pass took up to 119 ms under the assessment bench,
    and each one stalls every request in flight (four of them put the p99 at 168 ms). Frozen, a full pass took
    at most 6 ms. The objects are still freed by reference counting; only cycles among them would be kept.
    A served process's start-up hook (``ipledge serve``), not part of ``create_app``: tests build many apps in one
    process, and freezing each would keep the earlier ones' cycles.
    """
    gc.collect()
    gc.freeze()


def served_app(settings: Settings) -> Any:
    """``create_app`` as ``ipledge serve`` serves it: with :func:`freeze_heap` as a start-up hook."""
    from ipledge.app import create_app

    app = create_app(settings)
    app.on_startup.append(freeze_heap)
    return app


def serve_app() -> Any:
    """The app of one ``ipledge serve --workers N`` process (a uvicorn factory): settings from the environment."""
    settings = load_settings()
    configure_logging(settings.log_level, json_output=settings.log_json)
    return served_app(settings)


def serve_loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """The event loop factory uvicorn picks by itself (``loop="auto"``: uvloop when installed, else asyncio).

    ``uvicorn.run`` and each process of :func:`run_workers` use it; ``ipledge serve`` with one worker runs
    uvicorn's ``Server.serve()`` in its own loop, so it must ask for the same one.
    """
    import uvicorn

    return uvicorn.Config("ipledge.cli:serve_app", log_config=None).get_loop_factory()


def run_workers(app: str, host: str, port: int, workers: int, *, factory: bool) -> None:
    """Serve the ASGI app ``app`` ("module:attr") from ``workers`` uvicorn processes sharing one socket.

    Like ``uvicorn.run(app, workers=N)``, except for the listening socket: uvicorn's own has protocol
    0, so asyncio does not set TCP_NODELAY on accepted connections and every response waits for the
    client's delayed ACK (about 40 ms a request). Ours is created as IPPROTO_TCP. The workers take
    connections by turns (:mod:`ipledge.balance`), so that keep-alive clients spread evenly over them,
    and keep their Prometheus metrics in one shared directory (:func:`~ipledge.metrics.shared_metrics_dir`).
    """
    import socket

    import uvicorn
    from uvicorn.supervisors import Multiprocess

    from ipledge.balance import Slots
    from ipledge.metrics import shared_metrics_dir

    config = uvicorn.Config(
        app, host=host, port=port, workers=workers, factory=factory, log_config=None, access_log=False,
        lifespan="on", loop="ipledge.balance:new_event_loop",
    )  # fmt: skip
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    try:
        # The table the workers take turns by, and the directory that lets /metrics count every worker's requests.
        with Slots.shared(workers), shared_metrics_dir():
            Multiprocess(config, sockets=[sock]).run()
    finally:
        sock.close()


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import os

    import uvicorn

    workers = args.workers or settings.workers
    if workers < 1:
        print("error: --workers: must be at least 1", file=sys.stderr)
        return 2

    async def prepare(stack: AsyncExitStack) -> Settings:
        effective = settings
        if settings.database_url is None:
            embedded = await asyncio.to_thread(EmbeddedPostgres, settings.data_path / "pg")
            stack.callback(embedded.stop)
            effective = load_settings(database_url=embedded.dsn())
        if args.demo:
            from ipledge.demo import demo_keys, load_all_demos

            async with open_database(effective) as pool:
                loaded = await load_all_demos(pool, effective.demo_seed, base_url=effective.public_base_url)
                if loaded:
                    print(f"demo data loaded: {', '.join(loaded)}")
                _print_keys(await demo_keys(pool))
        return effective

    def announce(effective: Settings) -> tuple[str, int]:
        host, port = args.host or effective.host, args.port or effective.port
        each = f", {workers} worker processes" if workers > 1 else ""
        print(f"ipledge serving on http://{host}:{port}{each}  (API docs: http://{host}:{port}/schema)")
        return host, port

    async def main() -> int:
        async with AsyncExitStack() as stack:
            effective = await prepare(stack)
            host, port = announce(effective)
            config = uvicorn.Config(
                served_app(effective), host=host, port=port, log_config=None, access_log=False, lifespan="on"
            )
            await uvicorn.Server(config).serve()
        return 0

    try:
        if workers == 1:
            # The loop uvicorn itself would run (uvloop when installed): ``asyncio.run`` would give the stock loop.
            with asyncio.Runner(loop_factory=serve_loop_factory()) as runner:
                return runner.run(main())
        # uvicorn's process manager needs the main thread (signals), so it runs outside the event loop; the
        # embedded database (if any) stays up until the manager returns, then its handle is released.
        stack = AsyncExitStack()
        effective = asyncio.run(prepare(stack))
        host, port = announce(effective)
        os.environ["DATABASE_URL"] = effective.database_url or ""  # each worker reads its settings from here
        try:
            run_workers("ipledge.cli:serve_app", host, port, workers, factory=True)
        finally:
            asyncio.run(stack.aclose())
        return 0
    except KeyboardInterrupt:  # uvicorn re-raises Ctrl-C after a clean shutdown; the exit stack has run
        print("ipledge stopped")
        return 0


def cmd_worker(args: argparse.Namespace, settings: Settings) -> int:
    from ipledge.webhooks.worker import run_worker

    if args.concurrency:
        settings = msgspec.structs.replace(settings, worker_concurrency=args.concurrency)

    async def action(pool: Pool) -> int:
        await run_worker(pool, settings)
        return 0

    return _run_with_pool(settings, action)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ipledge", description="ipledge — 专利质押评估、培育库推送与一月一链路演")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve the HTTP API")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--demo", action="store_true", help="load demo data once and print a demo key per role")
    serve.add_argument("--workers", type=int, help="worker processes (IPLEDGE_WORKERS, default 1)")
    serve.set_defaults(func=cmd_serve)
    sub.add_parser("migrate", help="apply database migrations").set_defaults(func=cmd_migrate)
    demo = sub.add_parser("demo", help="load demo data (idempotent)")
    demo.add_argument("--keys", action="store_true", help="also issue and print one demo key per role")
    demo.set_defaults(func=cmd_demo)
    keys = sub.add_parser("keys", help="manage API keys").add_subparsers(dest="keys_command", required=True)
    create = keys.add_parser("create", help="create an API key for an organisation")
    create.add_argument("--org", required=True, help="organisation id or 统一社会信用代码")
    create.add_argument("--role", choices=["operator", "enterprise", "bank", "fund"])
    create.add_argument("--label", default="cli")
    create.set_defaults(func=cmd_keys_create)
    revoke = keys.add_parser("revoke", help="revoke an API key")
    revoke.add_argument("key_id")
    revoke.set_defaults(func=cmd_keys_revoke)
    worker = sub.add_parser("worker", help="deliver webhooks and run scheduled push runs (until SIGTERM/SIGINT)")
    worker.add_argument("--concurrency", type=int, help="deliveries in flight at once (IPLEDGE_WORKER_CONCURRENCY)")
    worker.set_defaults(func=cmd_worker)
    for register in _domain_commands():
        register(sub)
    return parser


def _domain_commands() -> list[Callable[[Any], None]]:
    """Subcommands contributed by the domains (valuation, matching/worker, roadshow)."""
    from matching.cli import register as matching
    from roadshow.cli import register as roadshow
    from valuation.cli import register as valuation

    return [valuation, matching, roadshow]


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level, json_output=settings.log_json)
    try:
        result: int = args.func(args, settings)
    except MigrationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return result


if __name__ == "__main__":
    sys.exit(main())
