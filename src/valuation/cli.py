"""The `ipledge valuation …` subcommands: the stateless calculators and the batch."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

import msgspec

from ipledge.settings import Settings
from valuation.codes import CHAIN_CODES
from valuation.errors import ValuationInputError
from valuation.types import Lang


def _calculator(kind: str, lang: Lang) -> int:
    """Read one JSON request on stdin, write the result on stdout; a message naming the field on bad input."""
    from valuation.cost import CostRequest, cost_value
    from valuation.income import IncomeRequest, income_value

    if sys.stdin is None:  # started with standard input closed
        print("error: body: no JSON request on standard input", file=sys.stderr)
        return 2
    raw = sys.stdin.buffer.read()
    try:
        if kind == "income":
            result: Any = income_value(msgspec.json.decode(raw, type=IncomeRequest, strict=True), lang)
        else:
            result = cost_value(msgspec.json.decode(raw, type=CostRequest, strict=True), lang)
    except msgspec.ValidationError as exc:
        from ipledge.errors import msgspec_field_error

        err = msgspec_field_error(exc)
        print(f"error: {err.field}: {err.message}", file=sys.stderr)
        return 2
    except msgspec.DecodeError as exc:
        print(f"error: body: malformed JSON: {exc}", file=sys.stderr)
        return 2
    except ValuationInputError as exc:
        print(f"error: {exc.field}: {exc.message}", file=sys.stderr)
        return 2
    sys.stdout.buffer.write(msgspec.json.format(msgspec.json.encode(result), indent=2) + b"\n")
    return 0


def cmd_income(args: argparse.Namespace, settings: Settings) -> int:
    del settings
    return _calculator("income", args.lang)


def cmd_cost(args: argparse.Namespace, settings: Settings) -> int:
    del settings
    return _calculator("cost", args.lang)


def _province(value: str | None) -> str | None:
    from ipledge.regions import province_code

    if value is None:
        return None
    code = province_code(value)
    if code is None:
        raise SystemExit(f"error: --province: unknown province {value!r}")
    return code


def cmd_batch(args: argparse.Namespace, settings: Settings) -> int:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from ipledge.db.runtime import open_database
    from valuation.batch_run import RunInfo, RunRefused, run_batch

    province = _province(args.province)
    if args.chain is not None and args.chain not in CHAIN_CODES:
        print(f"error: --chain: unknown chain {args.chain!r} (one of: {', '.join(CHAIN_CODES)})", file=sys.stderr)
        return 2
    if args.chunk < 1:
        print("error: --chunk: must be at least 1", file=sys.stderr)
        return 2
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, transient=False, disable=args.quiet) as bar:
        task = bar.add_task("valuing patents", total=None)

        def started(run: RunInfo) -> None:
            verb = "resuming" if run.resumed else "starting"
            bar.update(task, total=run.total, completed=run.done, description=f"run {run.id} ({verb})")

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        async def main() -> RunInfo:
            async with open_database(settings) as pool:
                return await run_batch(
                    pool,
                    chain=args.chain,
                    province=province,
                    chunk=args.chunk,
                    resume=args.resume,
                    progress=progress,
                    on_start=started,
                    pause=args.pause_ms / 1000,
                )

        try:
            run = asyncio.run(main())
        except RunRefused as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    print(
        f"run {run.id}: {run.done} of {run.total} patents valued (as of {run.as_of}, coefficients "
        f"{run.coefficient_version})"
    )
    return 0


def register(sub: Any) -> None:
    """Add this domain's subcommands to the `ipledge` parser (`sub` is its subparsers object)."""
    valuation = sub.add_parser("valuation", help="patent valuation: calculators and the batch")
    commands = valuation.add_subparsers(dest="valuation_command", required=True)
    for name, func, what in (("income", cmd_income, "income approach"), ("cost", cmd_cost, "cost approach")):
        calc = commands.add_parser(name, help=f"{what} calculator: JSON request on stdin, result on stdout")
        calc.add_argument("--lang", choices=["zh", "en"], default="zh", help="language of the steps")
        calc.set_defaults(func=func)
    batch = commands.add_parser("batch", help="value every patent (or a filter) into patent_valuations")
    batch.add_argument("--chain", help="only enterprises of this chain (and unowned patents tagged with it)")
    batch.add_argument("--province", help="only enterprises of this province (code or name)")
    batch.add_argument("--chunk", type=int, default=50_000, help="patents per chunk (default 50000)")
    batch.add_argument("--resume", action="store_true", help="continue the latest unfinished run with this filter")
    batch.add_argument("--quiet", action="store_true", help="no progress bar")
    batch.add_argument("--pause-ms", type=float, default=0.0, help=argparse.SUPPRESS)  # slows a run down (tests)
    batch.set_defaults(func=cmd_batch)
